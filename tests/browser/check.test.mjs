// The "check my answer" boxes (web/js/check.js) in headless Chromium against the real daemon:
// a pasted JSON answer, a chosen .npy file and a dropped one are graded against the section's
// last run; the diagnosis names the mistake and a map shows where the answer differs; errors are
// shown on the box; every control has a label, and axe-core finds nothing serious with a verdict
// on screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup, canvasColours, axeViolations, SCREENSHOTS } from './harness.mjs';

let env;
let dir;
before(async () => { env = await setup(); dir = mkdtempSync(join(tmpdir(), 'nnlab-check-')); });
after(async () => { await env?.close(); rmSync(dir, { recursive: true, force: true }); });

// A float64 .npy file (version 1.0, C order), as np.save writes one.
function npy64(shape, data) {
  const dims = shape.join(', ') + (shape.length === 1 ? ',' : '');
  let head = `{'descr': '<f8', 'fortran_order': False, 'shape': (${dims}), }`;
  head += ' '.repeat(63 - ((10 + head.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(head.length, 8);
  return Buffer.concat([pre, Buffer.from(head, 'latin1'), Buffer.from(new Float64Array(data).buffer)]);
}

// Open a section's box, give it an answer (JSON text, or a .npy file path), press check; the result.
async function check(page, op, { json, file }) {
  const box = page.locator(`[data-check="${op}"]`);
  if (!(await box.locator('details').evaluate((d) => d.open))) await box.locator('summary').click();
  if (file) await box.locator('input[type=file]').setInputFiles(file);
  else await box.locator('textarea').fill(json);
  await box.locator('button[type=submit]').click();
  return box;
}

async function verdict(box) {
  await box.locator('.check-verdict, .err:not([hidden])').first().waitFor({ timeout: 20000 });
  return {
    text: await box.locator('.check-verdict').textContent().catch(() => ''),
    codes: await box.locator('.check-diagnosis li').evaluateAll((li) => li.map((x) => x.dataset.code)),
  };
}

test('every box is labelled, and says to run the section first', async () => {
  const page = await env.newPage();
  for (const op of ['conv', 'pool', 'mlp']) {
    const box = page.locator(`[data-check="${op}"]`);
    await box.locator('summary').click();
    for (const c of await box.locator('textarea, input').all()) {
      const id = await c.getAttribute('id');
      const named = await c.evaluate((e) => e.labels.length > 0 || e.closest('label') !== null);
      assert.ok(named, `${op}: control ${id} has a label`);
    }
    assert.match(await box.locator('textarea').getAttribute('aria-describedby'), new RegExp(`${op}-check-help`));
    await box.locator('textarea').fill('[1, 2]');
    await box.locator('button[type=submit]').click();
    const err = box.locator('.err[role=alert]');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /^Run the .* first/);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('pooling: a typed map, the average instead of the max, then the right answer', async () => {
  const page = await env.newPage();
  await page.selectOption('#pool-form select[name=src]', 'typed');
  await page.click('#pool-form button[type=submit]');
  await page.waitForSelector('#pool-out canvas', { timeout: 20000 });
  // 1 3 2 0 / 4 6 5 1 / 0 2 9 8 / 1 1 7 3, 2x2 windows: the means, then the maxima.
  let box = await check(page, 'pool', { json: '[[3.5, 2], [1, 6.75]]' });
  let v = await verdict(box);
  assert.match(v.text, /^Not yet: 4 of 4 values differ/);
  assert.deepEqual(v.codes, ['avg_instead_of_max']);
  assert.ok(await canvasColours(box.locator('canvas.check-map')) >= 1, 'the map is drawn');
  assert.match(await box.locator('canvas.check-map').getAttribute('aria-label'), /4 of 4 positions/);
  assert.deepEqual(await axeViolations(page), [], 'axe-core on the page with an open box and its verdict');
  box = await check(page, 'pool', { json: '{"shape": [2, 2, 1], "data": [6, 5, 2, 9]}' });
  v = await verdict(box);
  assert.match(v.text, /^Correct: all 4 values/);
  assert.deepEqual(v.codes, []);
  // Not JSON: said on the box, the text area marked invalid.
  box = await check(page, 'pool', { json: '[[6, 5], [2, 9' });
  assert.match(await box.locator('.err').textContent(), /not valid JSON/);
  assert.equal(await box.locator('textarea').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('convolution: the run\'s own output as a .npy passes, transposed it is named, a dropped file works', async () => {
  const page = await env.newPage();
  const answered = page.waitForResponse((r) => r.url().endsWith('/conv'));
  await page.click('#conv-form button[type=submit]');
  const out = (await (await answered).json()).output;
  await page.waitForSelector('#conv-output-shape');
  const [H, W, N] = out.shape;
  const right = join(dir, 'right.npy');
  writeFileSync(right, npy64(out.shape, out.data));
  const box = await check(page, 'conv', { file: right });
  let v = await verdict(box);
  assert.match(v.text, new RegExp(`^Correct: all ${H * W * N} values`));
  assert.match(await box.locator('.check-file').textContent(), /right\.npy/);
  // H and W swapped, dropped onto the box.
  const t = new Array(out.data.length);
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let n = 0; n < N; n++) t[(j * H + i) * N + n] = out.data[(i * W + j) * N + n];
  const b64 = npy64([W, H, N], t).toString('base64');
  const dt = await page.evaluateHandle((s) => {
    const bytes = Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
    const d = new DataTransfer();
    d.items.add(new File([bytes], 'transposed.npy'));
    return d;
  }, b64);
  await page.dispatchEvent('[data-check="conv"] details', 'drop', { dataTransfer: dt });
  await page.waitForFunction(() => /transposed\.npy/.test(document.querySelector('[data-check="conv"] .check-file').textContent));
  await box.locator('button[type=submit]').click();
  await page.waitForSelector('[data-check="conv"] .check-diagnosis li', { timeout: 20000 });
  v = await verdict(box);
  assert.deepEqual(v.codes, H === W ? ['transposed'] : ['shape_mismatch', 'transposed']);
  await page.addStyleTag({ content: 'header { position: static !important; }' });
  await box.screenshot({ path: join(SCREENSHOTS, 'check-conv.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('MLP: the logits given for the softmax are softmax_missing', async () => {
  const page = await env.newPage();
  const answered = page.waitForResponse((r) => r.url().endsWith('/mlp'));
  await page.click('#mlp-form button[type=submit]');
  const res = await (await answered).json();
  const box = await check(page, 'mlp', { json: JSON.stringify(res.logits) });
  const v = await verdict(box);
  assert.deepEqual(v.codes, ['softmax_missing']);
  assert.match(await box.locator('.check-diagnosis li').textContent(), /softmax/);
  // The same numbers checked as the logits ("softmax" unticked) pass.
  await box.locator('input[name=softmax]').uncheck();
  await box.locator('button[type=submit]').click();
  await page.waitForFunction(() => /^Correct/.test(document.querySelector('[data-check="mlp"] .check-verdict')?.textContent || ''));
  assert.deepEqual(page.errors, []);
  await page.close();
});
