// The JSON API client (the contract: server/openapi.json): POST a request, get the JSON back or
// an ApiError carrying the contract's error object {status, code, message, field}.

export class ApiError extends Error {
  constructor(status, body, text, retryAfter) {
    const e = body && body.error;
    super(e ? e.message : (text || `HTTP ${status}`));
    this.name = 'ApiError';
    this.status = status;
    this.code = e ? e.code : 'http_error';
    this.field = e ? e.field : undefined;
    this.retryAfter = retryAfter ? Number(retryAfter) : 0;
  }
}

// The ApiError for a failed response (its body is read here).
export async function apiErrorOf(res) {
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: the text is the message */ }
  return new ApiError(res.status, json, text, res.headers.get('Retry-After'));
}

// fetch() that turns "no connection" into an ApiError with status 0.
export async function send(path, body, { signal } = {}) {
  try {
    return await fetch(path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, `cannot reach the server (${e.message})`);
  }
}

export async function post(path, body, opts) {
  const res = await send(path, body, opts);
  if (!res.ok) throw await apiErrorOf(res);
  const text = await res.text();
  try { return JSON.parse(text); } catch {
    throw new ApiError(res.status, null, 'the server sent a response that is not JSON');
  }
}
