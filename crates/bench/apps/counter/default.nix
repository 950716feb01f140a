# Benchmarks of state: one counter read by GET and incremented by POST (all requests
# contend for the same key, so every write conflicts with every other one in flight).
let count = n: if n == null then 0 else n;
in {
  GET = req: { json = count (req.db.get "counter"); };
  POST = req:
    let next = count (req.db.get "counter") + 1;
    in { json = next; db.set.counter = next; };
}
