export interface MariadbServer {
    host: string;
    port: number;
    user: string;
    password: string;
    /** Stop the server (SIGTERM, then SIGKILL); the data stays for `start()`. */
    stop(): Promise<void>;
    start(): Promise<void>;
    /** Stop the server and delete its files. */
    destroy(): Promise<void>;
}
/** The Debian package when missing: installed with apt-get as root, else a clear error. */
export declare function ensureMariadbInstalled(): void;
export declare function startMariadb(options?: {
    maxConnections?: number;
}): Promise<MariadbServer>;
