// An API error in a student's words. The server's messages are written for developers
// ("stride must be between 1 and 1048576 (got 0)"); the page rewords the ones a student meets,
// with the server's real limits (GET /healthz), and keeps the server's text for the rest.
import { fmt } from './util.js';

const big = (n) => (n >= 1e6 ? `${fmt(n / 1e6, 3)} million` : String(n));
const mb = (bytes) => `${fmt(bytes / (1024 * 1024), 3)} MB`;

// [pattern, (match, ctx) => words]. ctx: {label, limits, error}.
const RULES = [
  [/^(?:architecture\[(\d+)\] \((\w+)\): )(.*)$/, (m, ctx) => `Layer ${Number(m[1]) + 1} (${m[2]}): ${reword({ ...ctx.error, message: m[3] }, ctx)}`],
  [/kernel (\d+)x(\d+) is larger than (?:the|its) padded (?:input )?(\d+)x(\d+)(?: input)?/, (m) =>
    `The kernel (${m[1]} × ${m[2]}) is bigger than the input with its padding (${m[3]} × ${m[4]}). Use a smaller kernel, more padding or a larger image.`],
  [/pool window (\d+)x(\d+) is larger than (?:the|its) (\d+)x(\d+)(?:x\d+)? input/, (m) =>
    `The pooling window (${m[1]} × ${m[2]}) is bigger than the map it pools (${m[3]} × ${m[4]}). Use a smaller size.`],
  [/window (\d+)x(\d+) is larger than its (\d+)x(\d+)x\d+ input/, (m) =>
    `The pooling window (${m[1]} × ${m[2]}) is bigger than the map it pools (${m[3]} × ${m[4]}). Use a smaller size.`],
  [/^(\S+) must be between (-?\d+) and (\d+) \(got (\S+)\)$/, (m, ctx) => (Number(m[3]) >= 1 << 20
    ? `${ctx.label} must be a whole number of at least ${m[2]} (you gave ${m[4]}).`
    : `${ctx.label} must be a whole number from ${m[2]} to ${m[3]} (you gave ${m[4]}).`)],
  [/^(\S+) must be at least (-?\d+) \(got (\S+)\)$/, (m, ctx) => `${ctx.label} must be a whole number of at least ${m[2]} (you gave ${m[3]}).`],
  [/^(\S+) must be an integer/, (m, ctx) => `${ctx.label} must be a whole number.`],
  [/^(\S+) is (\d+); this server's limit is (\d+)$/, (m, ctx) => `${ctx.label} can be at most ${m[3]} on this server (you asked for ${m[2]}).`],
  [/^(\S+) \((\d+)\) must be >= (\S+) \((\d+)\)$/, (m, ctx) => `${ctx.label} (${m[2]}) must not be smaller than the ${m[3].replace('_', ' ')} (${m[4]}).`],
  [/^batch_size \((\d+)\) must be <= the number of training samples \((\d+)\)$/, (m) =>
    `The batch size (${m[1]}) cannot be larger than the number of samples (${m[2]}).`],
  // Training runs (recurrent and CNN): the advice fits the part of the run that is too big.
  [/^one training step would need ([\d.e+]+) flops; the limit is ([\d.e+]+)/, (m) =>
    `One training step is too much work for the server (${fmt(Number(m[1]), 2)} operations; it allows ${fmt(Number(m[2]), 2)}). Use a smaller batch size or a smaller net.`],
  [/^evaluating the test set would need ([\d.e+]+) flops; the limit is ([\d.e+]+)/, (m) =>
    `Testing is too much work for the server (${fmt(Number(m[1]), 2)} operations; it allows ${fmt(Number(m[2]), 2)}). Use fewer test samples.`],
  [/^this run would need ([\d.e+]+) flops; the limit is ([\d.e+]+)/, (m) =>
    `This run is too much work for the server (${fmt(Number(m[1]), 2)} operations; it allows ${fmt(Number(m[2]), 2)}). Use fewer epochs or fewer samples.`],
  [/^(\S+) is (\d+); the (?:Fashion-MNIST )?(training|test) set(?: \(train_samples\))? has (\d+)$/, (m, ctx) =>
    `${ctx.label} can be at most ${m[4]}: that is how many ${m[3]} images there are${m[1] === 'batch_size' ? ' in this run' : ''} (you asked for ${m[2]}).`],
  [/^learning_rate must be > 0 and <= (\S+)$/, (m, ctx) => `${ctx.label} must be greater than 0 and at most ${m[1]}.`],
  [/^momentum must be in \[0, 1\)$/, (m, ctx) => `${ctx.label} must be at least 0 and below 1.`],
  [/^lr_decay must be in \(0, 1\]/, (m, ctx) => `${ctx.label} must be greater than 0 and at most 1 (1 keeps the learning rate constant).`],
  [/^diverged at step (\d+)/, (m) => `The training blew up at step ${m[1]}: the loss became infinite or not a number. Use a smaller learning rate.`],
  [/^this run is estimated at ([\d.]+) s of computing.*the limit is ([\d.e+]+) s/, (m) =>
    `This run would take about ${m[1]} s of computing; the server allows ${m[2]} s. Use fewer samples or epochs, or a smaller net.`],
  [/needs ([\d.e+]+) flops; the limit is ([\d.e+]+)/, (m) =>
    `This is too much work for one request (${fmt(Number(m[1]), 2)} operations; the server allows ${fmt(Number(m[2]), 2)}). Use a smaller image, fewer or smaller filters, or a larger stride.`],
  [/has (\d+) parameters; the limit is (\d+)/, (m) => `This network has too many weights (${big(Number(m[1]))}; the server allows ${big(Number(m[2]))}). Use smaller layers.`],
  [/^image is (\d+)x(\d+); the limit is (\d+)x(\d+)/, (m) =>
    `The image is ${m[1]} × ${m[2]} pixels; the server takes at most ${m[3]} × ${m[4]}. Choose a smaller “Longest side”.`],
  [/^(?:image|input) has more than (\d+) values/, (m) =>
    `The image has more than ${big(Number(m[1]))} values (width × height × channels), the server's limit. Choose a smaller “Longest side”.`],
  [/is not a PNG or JPEG image/, () => 'This file is not a PNG or JPEG image the server can read (or it is damaged). Save it as PNG or JPEG, or pick another one.'],
  [/request body exceeds the limit of (\d+) bytes/, (m) => `The request is larger than the server accepts (${mb(Number(m[1]))}). Choose a smaller “Longest side”.`],
  [/the result is not finite/, () => 'Some results are too large to store (they overflow 32-bit floats). Use smaller values.'],
];

function reword(err, ctx) {
  const msg = err.message || '';
  for (const [re, words] of RULES) {
    const m = msg.match(re);
    if (m) return words(m, ctx);
  }
  return msg ? msg.charAt(0).toUpperCase() + msg.slice(1) : 'Something went wrong.';
}

// The message to show for an error thrown by a section's run (ApiError, FieldError, Error).
// label: the visible label of the control it is shown on (or the field's name).
export function studentMessage(err, { label, limits = {} } = {}) {
  if (!err) return 'Something went wrong.';
  if (err.name === 'FieldError') return err.message;
  if (err.name !== 'ApiError') return err.message || String(err);
  if (err.status === 0) return 'The page cannot reach the server. Is nnlabd still running? Reload the page to try again.';
  // A missing data set is not cured by waiting: the server's message names the package.
  if (err.code === 'dataset_unavailable') return err.message;
  if (err.status === 503) {
    const wait = err.retryAfter ? ` Try again in ${err.retryAfter} s.` : ' Try again in a moment.';
    return `The server is busy (${limits.max_trainings ? `at most ${limits.max_trainings} trainings at once` : 'too many requests'}).${wait}`;
  }
  if (err.status >= 500) return `The server failed (${err.status}): ${err.message}. This is a bug in nnlab; please report it.`;
  // A field inside the CNN's architecture ("architecture[2].size") is named as the student
  // wrote it: layer 3's "size".
  const inArch = /^architecture\[(\d+)\](?:\.(\w+))?/.exec(err.field || '');
  if (inArch) label = inArch[2] ? `Layer ${Number(inArch[1]) + 1}'s “${inArch[2]}”` : `Layer ${Number(inArch[1]) + 1}`;
  return reword(err, { label: label || err.field || 'This value', limits, error: err });
}
