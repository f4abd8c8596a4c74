const D=require('better-sqlite3'); const db=new D('/tmp/micro-head.sqlite');
for (const w of ["status = 'pending'", "queue = 'default'", "available_at <= '9999'", `type IN (SELECT value FROM json_each('["bench-noop"]'))`])
  console.log(w, db.prepare('select count(*) n from managed_jobs where ' + w).get());
