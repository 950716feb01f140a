let n = 40; in { inherit n; twice = n * 2; self = ./.; }
