/**
 * A private MariaDB server for the tests (Debian's `mariadb-server` binaries): its own data
 * directory under a world-writable temporary folder (as root the server runs as the `mysql`
 * user), a free port on the loopback interface only, a socket file in its own directory, and a
 * random password for the `nmj` user. Durability is switched off: the data is thrown away.
 *
 * Used by global-setup.ts (one server per jest run) and by specs that stop and restart a server
 * of their own. Self-contained (no imports of other support files): jest loads global hooks with
 * require() and no module name mapping.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
const START_TIMEOUT_MS = 60_000;
const BINARIES = ['/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db'];
/** The Debian package when missing: installed with apt-get as root, else a clear error. */
export function ensureMariadbInstalled() {
    if (BINARIES.every((b) => fs.existsSync(b)))
        return;
    const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find((p) => fs.existsSync(p));
    if (process.getuid?.() !== 0 || !aptGet) {
        throw new Error(`[nmj] The MariaDB tests need Debian's mariadb-server (${BINARIES.join(', ')}). Install it with\n` +
            `    sudo apt-get update && sudo apt-get install -y mariadb-server\nthen run the tests again.`);
    }
    process.stderr.write('[nmj] mariadb-server is missing: installing Debian\'s package (apt-get install -y mariadb-server)…\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync(aptGet, ['-o', 'Acquire::Retries=3', 'update'], { stdio: 'inherit', env });
    execFileSync(aptGet, ['-o', 'Acquire::Retries=3', 'install', '-y', 'mariadb-server'], { stdio: 'inherit', env });
}
export async function startMariadb(options = {}) {
    ensureMariadbInstalled();
    const isRoot = process.getuid?.() === 0;
    const baseDir = path.join(os.tmpdir(), 'nmj-mariadb');
    fs.mkdirSync(baseDir, { recursive: true });
    fs.chmodSync(baseDir, 0o777);
    const runDir = fs.mkdtempSync(path.join(baseDir, 'run-'));
    fs.chmodSync(runDir, 0o777);
    const dataDir = path.join(runDir, 'data');
    const socket = path.join(runDir, 'mariadb.sock');
    const logFile = path.join(runDir, 'server.log');
    const asUser = isRoot ? ['--user=mysql'] : [];
    execFileSync(BINARIES[1], ['--no-defaults', `--datadir=${dataDir}`, ...asUser, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'], { stdio: 'pipe' });
    const port = await freePort();
    const user = 'nmj';
    const password = randomBytes(12).toString('hex');
    let child;
    const start = async () => {
        child = spawn('/usr/sbin/mariadbd', [
            '--no-defaults',
            `--datadir=${dataDir}`,
            ...asUser,
            '--bind-address=127.0.0.1',
            `--port=${port}`,
            `--socket=${socket}`,
            `--pid-file=${path.join(runDir, 'mariadb.pid')}`,
            `--log-error=${logFile}`,
            '--skip-name-resolve',
            '--skip-log-bin',
            `--max-connections=${options.maxConnections ?? 1000}`,
            '--character-set-server=utf8mb4',
            '--collation-server=utf8mb4_bin',
            // Durability is pointless for a throw-away server.
            '--innodb-flush-log-at-trx-commit=0',
            '--innodb-doublewrite=0',
            '--innodb-buffer-pool-size=128M',
            '--sync-binlog=0',
        ], { stdio: 'ignore', detached: false });
        const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`mariadbd exited (${code})`))));
        exited.catch(() => undefined);
        const deadline = Date.now() + START_TIMEOUT_MS;
        for (;;) {
            const ready = await Promise.race([canConnect(port), exited]).catch((error) => {
                throw new Error(`[nmj] MariaDB did not start: ${error.message}\n${tail(logFile)}`);
            });
            if (ready)
                break;
            if (Date.now() > deadline)
                throw new Error(`[nmj] MariaDB did not become ready within ${START_TIMEOUT_MS} ms\n${tail(logFile)}`);
            await new Promise((r) => setTimeout(r, 100));
        }
    };
    const stop = async () => {
        const c = child;
        child = undefined;
        if (!c || c.exitCode !== null)
            return;
        const gone = new Promise((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
        await gone;
        clearTimeout(timer);
    };
    await start();
    // root@localhost has no password (set up above) and is reachable through the private socket only.
    execFileSync('/usr/bin/mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-e',
        `CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO '${user}'@'127.0.0.1' WITH GRANT OPTION;`]);
    return {
        host: '127.0.0.1',
        port,
        user,
        password,
        stop,
        start,
        async destroy() {
            await stop().catch(() => undefined);
            fs.rmSync(runDir, { recursive: true, force: true });
        },
    };
}
/** Whether the server accepts TCP connections (it sends its handshake first). */
function canConnect(port) {
    return new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('data', () => {
            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
        socket.setTimeout(1000, () => {
            socket.destroy();
            resolve(false);
        });
    });
}
function tail(file) {
    try {
        return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
    }
    catch {
        return '(no server log)';
    }
}
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}
