// A training request whose answer is an NDJSON stream (POST /train/...): each line is parsed and
// handed to onLine as it arrives. A 503 (the server's training slots are full) is retried
// after its Retry-After; any other refusal throws the ApiError. Aborting the signal cancels
// the run (the server stops a run whose client disconnects).
import { ApiError, apiErrorOf, send } from './api.js';

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(new DOMException('aborted', 'AbortError')); }, { once: true });
});

async function readLines(body, onLine) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  if (buf.trim()) onLine(JSON.parse(buf));
}

// The ApiError an error line ({type: 'error', status, code, message, field}) reports: a run that
// fails after it started says so in the stream, its status is already 200.
export function lineError(m) {
  return new ApiError(m.status, { error: m }, m.message);
}

// onWait(seconds) is told about each 503 before the retry.
export async function streamNdjson(path, body, { signal, onLine, onWait }) {
  for (;;) {
    const res = await send(path, body, { signal });
    if (res.status === 503) {
      const wait = Number(res.headers.get('Retry-After')) || 1;
      await res.body?.cancel();
      onWait?.(wait);
      await sleep(wait * 1000, signal);
      continue;
    }
    if (!res.ok) throw await apiErrorOf(res);
    await readLines(res.body, onLine);
    return;
  }
}
