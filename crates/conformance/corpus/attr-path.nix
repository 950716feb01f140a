#! --eval --strict -A 'hosts."example.com"'
# Selection with -A of a quoted name that holds a dot (issue 13 cause 15).
{ hosts."example.com" = 1; }
{ hosts.example.com = 1; }
{ hosts = { }; }
