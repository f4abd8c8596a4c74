// The operator API, from the page's own origin. Every action is a JSON POST: the API refuses
// anything else (415), so a cross-site form can never trigger one.

const base = document.body.dataset.base;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function get(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const qs = params.toString();
  return call('GET', `${path}${qs ? `?${qs}` : ''}`);
}

export function post(path, body = {}) {
  return call('POST', path, body);
}

async function call(method, path, body) {
  const response = await fetch(`${base}/api/${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const message = data && (Array.isArray(data.message) ? data.message.join('; ') : data.message);
    throw new ApiError(response.status, message || `${response.status} ${response.statusText}`);
  }
  return data;
}
