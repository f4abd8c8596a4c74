/**
 * `npm run bench`, step 1: make sure bench/ has what it needs, then build the library's dist/.
 *
 * - bench/'s own dependencies (the peers and a Node 22 runtime, the npm package `node`) are
 *   installed with `npm --prefix bench ci` when missing or older than bench/package.json.
 * - better-sqlite3 is a native addon: the root's copy is built for the machine's Node 20, so bench/
 *   has its own (a devDependency of bench/), recompiled here against the headers that ship inside
 *   the `node` package (no download: needs python3, make and g++, which .ci/run installs).
 */
import { execSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(bench, '..');
const modules = path.join(bench, 'node_modules');
const node22 = path.join(modules, 'node', 'bin', 'node');
const marker = path.join(modules, '.package-lock.json');

const stale = !fs.existsSync(node22) || !fs.existsSync(marker) || fs.statSync(marker).mtimeMs < fs.statSync(path.join(bench, 'package.json')).mtimeMs;
if (stale) {
  console.log('Installing the bench dependencies (npm --prefix bench ci)…');
  const lock = fs.existsSync(path.join(bench, 'package-lock.json'));
  // better-sqlite3 may fail to build here for the wrong Node; it is rebuilt below.
  spawnSync('npm', ['--prefix', bench, lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (!fs.existsSync(node22)) throw new Error('Installing bench/ dependencies failed: no Node 22 runtime in bench/node_modules/node.');
}

const loads = () => spawnSync(node22, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: bench }).status === 0;
if (!loads()) {
  const version = execSync(`"${node22}" -p process.versions.node`, { encoding: 'utf8' }).trim();
  const headers = path.join(bench, '.work', `node-${version}-headers`);
  if (!fs.existsSync(path.join(headers, 'include', 'node', 'node_api.h'))) {
    const found = findHeaders(path.join(modules, 'node'), version);
    if (!found) throw new Error(`No Node ${version} headers under bench/node_modules/node: reinstall with rm -rf bench/node_modules && npm run bench.`);
    fs.mkdirSync(headers, { recursive: true });
    fs.cpSync(found, path.join(headers, 'include'), { recursive: true });
  }
  console.log(`Building better-sqlite3 for Node ${version} (bench/ copy)…`);
  execSync(`npm --prefix "${bench}" rebuild better-sqlite3 --foreground-scripts`, {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${path.dirname(node22)}${path.delimiter}${process.env.PATH}`, npm_config_nodedir: headers },
  });
  if (!loads()) throw new Error('better-sqlite3 does not load under the bench Node runtime after the rebuild.');
}

console.log('Building the library (tsc -p tsconfig.build.json)…');
execSync('npx tsc -p tsconfig.build.json', { cwd: root, stdio: 'inherit' });

/** The `include` folder of the Node `version` that the `node` package unpacked (it may sit in a renamed folder). */
function findHeaders(dir, version, depth = 0) {
  if (depth > 4 || !fs.existsSync(dir)) return null;
  const candidate = path.join(dir, 'include', 'node', 'node_version.h');
  if (fs.existsSync(candidate)) {
    const text = fs.readFileSync(candidate, 'utf8');
    const [maj, min, pat] = ['MAJOR', 'MINOR', 'PATCH'].map((k) => text.match(new RegExp(`#define NODE_${k}_VERSION (\\d+)`))?.[1]);
    if (`${maj}.${min}.${pat}` === version) return path.join(dir, 'include');
  }
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== 'bin') {
      const hit = findHeaders(path.join(dir, entry.name), version, depth + 1);
      if (hit) return hit;
    }
  }
  return null;
}
