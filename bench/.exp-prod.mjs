const env = JSON.parse(process.argv[2]);
const mod = await import('./lib/contenders/ours.mjs');
const p = await mod.open({ db: env.dbKind, env });
for (let i = 0; i < env.N; i += 1000) await p.enqueueBulk(Array.from({ length: 1000 }, (_, j) => ({ i: i + j })));
await p.close();
process.exit(0);
