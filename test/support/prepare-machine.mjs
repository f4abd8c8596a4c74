#!/usr/bin/env node
/**
 * `npm test`'s pretest: makes a fresh Debian machine able to run the whole suite, or stops with the
 * exact command that would. Two things the suite needs besides `npm ci`:
 *
 * - Chromium for the browser test (Debian's package, never a browser download). Installed with
 *   apt-get when it is missing and we are root; otherwise we stop and say what to run.
 * - When we are root, the embedded PostgreSQL runs as the unprivileged `postgres` user, which must
 *   be able to enter the checkout to reach its binaries in node_modules (a checkout under /root
 *   is not enterable). The directory chain gets `o+x` (enter, not list), as `.ci/run` does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const isRoot = process.getuid?.() === 0;
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function say(message) {
  console.log(`[prepare-machine] ${message}`);
}

if (!fs.existsSync(chromium)) {
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find((p) => fs.existsSync(p));
  if (!isRoot || !aptGet) {
    console.error(
      `[prepare-machine] The browser test needs Chromium at ${chromium}. Install it with\n` +
        `    sudo apt-get update && sudo apt-get install -y chromium\n` +
        `or point CHROMIUM_PATH at a Chromium binary, then run npm test again.`,
    );
    process.exit(1);
  }
  say('Chromium is missing: installing Debian\'s package (apt-get install -y chromium)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync(aptGet, ['-o', 'Acquire::Retries=3', 'update'], { stdio: 'inherit', env });
  execFileSync(aptGet, ['-o', 'Acquire::Retries=3', 'install', '-y', 'chromium'], { stdio: 'inherit', env });
}

if (isRoot) {
  for (let dir = root; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if (mode & 0o001) continue;
    fs.chmodSync(dir, mode | 0o001);
    say(`chmod o+x ${dir} (the embedded PostgreSQL runs as the postgres user and must reach node_modules)`);
  }
}
