-- POST with a form body, for the state benchmarks.
wrk.method = "POST"
wrk.body = "title=benchmark"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
