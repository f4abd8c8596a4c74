import type { INestApplication } from '@nestjs/common';
import { io, type Socket } from 'socket.io-client';

export type Ack = { ok: boolean; error?: string };
export interface Received {
  event: string;
  data: any;
}

/** A real socket.io client on the app's `/managed-jobs` namespace; rejects on connect_error. */
export async function connect(
  app: INestApplication | string,
  opts: { auth?: Record<string, unknown>; headers?: Record<string, string>; namespace?: string; transports?: string[] } = {},
): Promise<Socket> {
  const base = typeof app === 'string' ? app : (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const socket = io(`${base}${opts.namespace ?? '/managed-jobs'}`, {
    transports: opts.transports ?? ['websocket'],
    auth: opts.auth,
    extraHeaders: opts.headers,
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return socket;
}

/** Everything the socket receives from the server, in order. */
export function record(socket: Socket): Received[] {
  const received: Received[] = [];
  socket.onAny((event, data) => received.push({ event, data }));
  return received;
}

export function subscribe(socket: Socket, channel: unknown): Promise<Ack> {
  return socket.timeout(10_000).emitWithAck('subscribe', { channel });
}

/** The events of one job, by name. */
export function eventsOf(received: Received[], jobId: string): Received[] {
  return received.filter((r) => r.data?.jobId === jobId);
}
