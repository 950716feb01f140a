-- GET as a browser asks: compressed answers welcome (the web features benchmark).
wrk.headers["Accept-Encoding"] = "br, gzip"
