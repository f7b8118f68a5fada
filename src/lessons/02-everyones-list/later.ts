// Lesson 2's last steps: mallory tries the visitor ids next to her own (an id must be random,
// so that nobody can work out another's), and a newcomer a day later, on the worker that has run
// all along (an expiry worked out once, when the app started, is past by then).
import { fail, show } from '../../check/expect.ts';
import type { CheckStep } from '../types.ts';
import { addByForm, basketOf, drawItems, expectOnPage, loadBasketPage } from '../basket.ts';
import { neighbourIds, shiftedNumbers } from '../cookie-edits.ts';
import { cookiesOf as jarOf, replaceCookies } from '../jar.ts';
import { itemsOf } from './items.ts';

export const guessesStep: CheckStep = {
  title: 'mallory tries the visitor ids next to her own in her cookie: she finds nobody else\'s basket',
  async run(ctx) {
    const { alice, bob, dave, later, together } = itemsOf(ctx);
    const others = [...alice, bob, dave, later.frank, later.grace, later.alice, ...together];
    const item = drawItems(ctx.random, 24).find((i) => !others.includes(i))!;
    // mallory shops like anyone (after the visitors who came just before her), then reads her
    // own cookie and tries the ids next to hers: the visitors who came just before and after.
    const mallory = ctx.visitor('mallory', { like: 'alice' });
    await addByForm(ctx, 'mallory', item);
    const { cookies } = await jarOf(mallory);
    const guess = ctx.visitor("mallory's guesses", { like: 'mallory' });
    for (const [i, cookie] of cookies.entries()) {
      for (const edit of [...shiftedNumbers(cookie.value), ...neighbourIds(cookie.value)]) {
        await replaceCookies(guess, cookies.map((c, j) => (j === i ? { key: c.key, value: edit.value } : c)));
        const { items, where } = await basketOf(ctx, "mallory's guesses");
        const found = items.filter((i) => others.includes(i));
        if (found.length) {
          fail({
            expected: `nobody's basket for mallory's own cookie "${cookie.key}" with ${edit.what}, from ${where}`,
            got: show(found),
            diagnosis: `mallory changed a number in her cookie and got someone else's basket: the app's visitor ids follow one another (a counter, a number and the process id, the time), so anyone who reads their own can work out their neighbours'. An id must be random, so that nobody can guess another's: ${ctx.track === 'flask' ? 'uuid.uuid4()' : 'crypto.randomUUID()'}, or a signed session.`,
          });
        }
      }
    }
  },
};

export const dayLaterStep: CheckStep = {
  title: 'A day later, on the worker that has run all along, judy, a newcomer, keeps her basket from page to page',
  async run(ctx) {
    const { alice, bob, dave, later, together } = itemsOf(ctx);
    const others = [...alice, bob, dave, later.frank, later.grace, later.alice, ...together];
    const [item] = drawItems(ctx.random, 24).filter((i) => !others.includes(i)).slice(1);
    // The same worker, a day (and more) on: whatever the app worked out when it started (a date,
    // an expiry) is more than a day old now. judy's browser lives on today's date.
    await ctx.advanceClock(26 * 3_600_000);
    ctx.visitor('judy', { like: 'alice' });
    await addByForm(ctx, 'judy', item!);
    expectOnPage(await loadBasketPage(ctx, 'judy'), 'judy', [item!], others, (missing) =>
      missing.length
        ? `judy added an item and, on the next page, her basket is empty: her browser no longer sent the cookie that says who she is, because it had run out before it was set. The worker has been running for more than a day, and a cookie expiry worked out once, when the app started (an \`expires\` date kept in module scope), is in the past by now. Work out the expiry when the cookie is set (a max age does that), or leave it out (the browser session).`
        : undefined,
    );
  },
};
