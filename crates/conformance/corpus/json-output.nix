#! --eval --strict --json
# Values printed with --json.
{ a = 1; b = [ true null "s" ]; c = 1.5; }
"a\nb"
# issue 13 cause 13: a path is copied to the store and printed as its store path
./data/hello.txt
{ p = ./data; }
