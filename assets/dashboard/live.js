// The live feed: the operator namespace of the app's socket.io server (every job event, for
// operators only). The socket.io client comes from the app's own socket.io package, served next
// to this file. Without a feed (broadcasting off, socket.io missing, handshake refused, socket
// lost), the page polls instead; it goes back to live when the socket reconnects.

const EVENTS = ['job.started', 'job.progress', 'job.completed', 'job.failed', 'job.stopped'];

/**
 * Starts the feed; `onEvent(name, job)` for each event, `onMode('socket' | 'polling', why)`
 * whenever the page must switch between live updates and polling.
 */
export async function startLive({ onEvent, onMode }) {
  const { socketPath, namespace } = document.body.dataset;
  if (!namespace) return onMode('polling', 'live updates are off on this server');
  let io;
  try {
    ({ io } = await import('./socket.io.esm.min.js'));
  } catch {
    return onMode('polling', 'the socket.io client is not available');
  }
  const socket = io(namespace, {
    path: socketPath || '/socket.io',
    withCredentials: true,
    reconnectionDelay: 2000,
    reconnectionDelayMax: 10_000,
  });
  socket.on('connect', () => onMode('socket'));
  socket.on('disconnect', () => onMode('polling', 'connection lost'));
  socket.on('connect_error', (error) => onMode('polling', error && error.message ? error.message : 'could not connect'));
  for (const name of EVENTS) socket.on(name, (job) => onEvent(name, job));
  return socket;
}
