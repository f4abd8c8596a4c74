export interface S3TestServer {
    endpoint: string;
    bucket: string;
    directory: string;
    clientConfig: {
        endpoint: string;
        region: string;
        forcePathStyle: boolean;
        credentials: { accessKeyId: string; secretAccessKey: string };
    };
    /** Stop the server and delete its objects. */
    stop(): Promise<void>;
}
export declare function startS3Server(options?: { bucket?: string }): Promise<S3TestServer>;
