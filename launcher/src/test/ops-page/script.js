// Drives the ops page in headless Chromium: node script.js <page url> <ops key> <screenshot path>
// Logs in through the form, waits for the charts, samples the page's figures twice a few seconds
// apart, checks they moved, prints {"first":…,"second":…,"charts":n,"login_rejected":true} as one JSON
// line for OpsPageBrowserTest, saves a screenshot. Exit 1 with a message on the first failed check.
'use strict';
const { chromium } = require('playwright-core');

const [url, key, screenshot] = process.argv.slice(2);
if (!url || !key || !screenshot) {
  console.error('usage: node script.js <url> <key> <screenshot path>');
  process.exit(2);
}
const fail = (msg) => { throw new Error(msg); };

// page.waitForFunction compiles its predicate with eval, which the page's CSP forbids (rightly): poll instead
async function waitFor(page, predicate, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await page.evaluate(predicate)) return;
    await page.waitForTimeout(250);
  }
  fail('timed out waiting for ' + what);
}

async function figures(page) {
  return page.evaluate(() => {
    const out = {};
    document.querySelectorAll('[data-figure]').forEach((e) => { out[e.dataset.figure] = e.textContent; });
    out.consumer_rows = document.querySelectorAll('#consumers tbody tr').length;
    out.badges = [...document.querySelectorAll('[data-badge]')].map((e) => e.dataset.badge);
    out.breakers = document.querySelector('#breakers').textContent;
    return out;
  });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    // a wrong key gets the form again with an error, and no cookie
    await page.goto(url);
    await page.waitForSelector('form#login');
    await page.fill('#key', key + '-wrong');
    await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
    const rejected = (await page.textContent('#login-error')).includes('not one of the ops keys');
    if (!rejected) fail('a wrong key was not rejected');
    if ((await page.context().cookies()).length) fail('a wrong key set a cookie');

    await page.fill('#key', key);
    await Promise.all([page.waitForURL(url), page.click('button[type=submit]')]);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'sg_ops');
    if (!session) fail('no session cookie after login: ' + JSON.stringify(cookies));
    if (!session.httpOnly || session.sameSite !== 'Strict') fail('session cookie not HttpOnly/SameSite=Strict: ' + JSON.stringify(session));
    if (session.value.includes(key)) fail('the session cookie holds the key');

    // charts: one rates chart and one per stream, with data (rates need two reports of each node)
    await waitFor(page, () => document.querySelectorAll('.uplot').length >= 2, 20000, 'the charts');
    await waitFor(page, () => {
      const r = document.querySelector('[data-figure="rate_published"]').textContent;
      return r !== '–' && Number(document.querySelector('[data-figure="snapshots"]').textContent) >= 3;
    }, 30000, 'a publish rate and 3 snapshots');
    const first = await figures(page);
    await page.waitForTimeout(5000);
    const second = await figures(page);
    const charts = await page.evaluate(() => document.querySelectorAll('.uplot').length);

    if (Number(second.snapshots) <= Number(first.snapshots)) fail('no new snapshot in 5 s');
    if (second.taken_at === first.taken_at) fail('taken_at did not change');
    if (Number(second.published) <= Number(first.published)) fail('published did not grow under traffic');
    if (second.inbound_last_id === first.inbound_last_id) fail('the inbound stream\'s last id did not move');
    if (errors.length) fail('page errors: ' + errors.join('; '));

    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(JSON.stringify({ first, second, charts, login_rejected: rejected }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error('ops page check failed: ' + e.message);
  process.exit(1);
});
