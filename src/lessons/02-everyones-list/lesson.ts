import type { CheckContext, Lesson } from '../types.ts';
import { describe, fail, show } from '../../check/expect.ts';
import { addByForm, addItem, basketOf, briefBasket, expectBasket, expectOnPage, loadBasketPage, type BasketPage } from '../basket.ts';
import { markdown } from '../text.ts';
import { overlapStep } from './overlap.ts';
import { itemsOf } from './items.ts';
import { dayLaterStep, guessesStep } from './later.ts';

/** The cookies a visitor's browser holds, as name=value. */
function cookiesOf(ctx: CheckContext, visitor: string): string[] {
  return (ctx.visitor(visitor).jar.serializeSync()?.cookies ?? []).map((c) => `${c.key}=${c.value}`).filter((c) => !c.endsWith('='));
}

/** True when `visitor`'s browser was handed the very cookies `other` holds: the app gave both one id. */
function sameIdAs(ctx: CheckContext, visitor: string, other: string): boolean {
  const mine = cookiesOf(ctx, visitor);
  const theirs = cookiesOf(ctx, other);
  return mine.length > 0 && mine.every((c) => theirs.includes(c));
}

function shared(ctx: CheckContext, visitor: string, owner: string, where: string): string {
  if (sameIdAs(ctx, visitor, owner)) {
    return `${visitor} saw ${owner}'s item ${where}: the app handed ${visitor} the same visitor id as ${owner}. An id must be random, so that no two visitors get the same one even when they arrive in the same millisecond, and nobody can guess another's.`;
  }
  return `${visitor} saw ${owner}'s item ${where}: the app takes ${visitor} for ${owner}. A basket in module scope is shared by every visitor, and so is one kept per address or per browser: ${visitor} and ${owner} can share both, like colleagues in one office. Give each browser an id of its own in a cookie and keep one basket per id, for the page and its form as much as for the API.`;
}

/** Name whose items leaked into `visitor`'s basket, for the diagnosis of an API answer. */
function leak(ctx: CheckContext, visitor: string, owners: Record<string, readonly string[]>) {
  return (got: readonly string[]): string | undefined => {
    for (const [owner, items] of Object.entries(owners)) {
      if (owner !== visitor && got.some((item) => items.includes(item))) return shared(ctx, visitor, owner, 'in the API');
    }
    if (got.length === 0) {
      return `${visitor}'s own items are gone: does each request get a new visitor id? Read the id from the cookie the browser sends back, and set a new one only when there is none.`;
    }
    return undefined;
  };
}

/** The same, for what the page shows. */
function pageLeak(ctx: CheckContext, visitor: string, owners: Record<string, readonly string[]>) {
  return (missing: readonly string[], foreign: readonly string[]): string => {
    for (const [owner, items] of Object.entries(owners)) {
      if (foreign.some((item) => items.includes(item))) return shared(ctx, visitor, owner, 'on the page');
    }
    return missing.length
      ? `The page does not show ${visitor}'s own items: the page at / must read the basket of the visitor who asks (by the same cookie as the API), and the form must add to it.`
      : `${visitor}'s page shows items ${visitor} never added.`;
  };
}

/** After a deploy: `visitor` saw `owner`'s item, most likely under an id the app handed out again. */
function reissued(ctx: CheckContext, visitor: string, owner: string) {
  return (where: string): string =>
    sameIdAs(ctx, visitor, owner) || sameIdAs(ctx, owner, visitor)
      ? `After the deploy, ${visitor} saw ${owner}'s item ${where}: the app handed one of them the very id the other's browser still holds. Ids counted up from 1 (or drawn from anything that starts again when the app restarts) come round again after every deploy, while browsers keep their cookies; anyone can guess them too. Make each id random, as ${ctx.track === 'flask' ? 'uuid.uuid4()' : 'crypto.randomUUID()'} does.`
      : `After the deploy, ${visitor} saw ${owner}'s item ${where}: the app takes ${visitor} for ${owner}. Give each browser a random id in a cookie and keep one basket per id, however often the app restarts.`;
}

/** `visitor`'s basket, by the API, holds none of `foreign` (whether it still holds the visitor's own items or not). */
async function expectNoneOf(ctx: CheckContext, visitor: string, owners: Record<string, readonly string[]>): Promise<void> {
  const { items, where } = await basketOf(ctx, visitor);
  for (const [owner, theirs] of Object.entries(owners)) {
    const seen = items.filter((item) => theirs.includes(item));
    if (seen.length) {
      fail({ expected: `${visitor}'s basket to hold none of ${owner}'s items from ${where}`, got: show(items), diagnosis: reissued(ctx, visitor, owner)('in the API') });
    }
  }
}

/** `visitor`'s page holds none of the `owners`' items (whether it still shows the visitor's own or not). */
function expectPageWithout(ctx: CheckContext, page: BasketPage, visitor: string, owners: Record<string, readonly string[]>): void {
  for (const [owner, theirs] of Object.entries(owners)) {
    const seen = theirs.filter((item) => page.text.includes(item));
    if (seen.length) {
      fail({ expected: `${visitor}'s page (${describe(page.reply)}) to show none of ${owner}'s items`, got: `a page showing ${show(seen)}`, diagnosis: reissued(ctx, visitor, owner)('on the page') });
    }
  }
}

/** Page diagnosis after the deploy: foreign items name their owner. */
function pageAfterDeploy(ctx: CheckContext, visitor: string, owners: Record<string, readonly string[]>) {
  return (missing: readonly string[], foreign: readonly string[]): string => {
    for (const [owner, items] of Object.entries(owners)) {
      if (foreign.some((item) => items.includes(item))) return reissued(ctx, visitor, owner)('on the page');
    }
    return pageLeak(ctx, visitor, owners)(missing, foreign);
  };
}

const lesson: Lesson = {
  number: 2,
  slug: '02-everyones-list',
  title: "Everyone's list",
  track: 'core',
  summary: "Bob opens the shop and finds Alice's items in his basket.",
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'There is one `basket` array for the whole process. Every request, from every visitor, pushes to and reads from that same array: the page, its form and the API.',
    'To keep one basket per visitor you first need to tell visitors apart. Their IP address and browser signature do not do it: people in one office share both. Give each browser a random id in a cookie (`cookie-parser` and `crypto.randomUUID()` are available); an id made from the time is not random, two people arrive in the same millisecond.',
    "Keep a `Map` from visitor id to that visitor's basket. Set the cookie only when the request came without one, then look the basket up by the id, in all three routes.",
  ],
  workers: 1,
  // Node's own: a worker serves many requests at once (one runs while another awaits). A Flask
  // worker of this lesson still serves one at a time, as gunicorn's sync worker does.
  mode: 'concurrent',
  // The course's clock: visitors who arrive together (ctx.sameMoment) arrive in the same millisecond.
  clock: 'manual',
  brief: briefBasket,
  seed: () => ({}),
  flask: {
    file: 'app.py',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'There is one `basket` list for the whole process. Every request, from every visitor, appends to and reads from that same list.',
      "To keep one basket per visitor you first need to tell visitors apart. `request.remote_addr` and the User-Agent do not do it: people in one office, or all the visitors in this check, share both. Flask's signed `session` cookie (set `app.secret_key`), or a random id (`uuid.uuid4()`) in a cookie of your own, does.",
      "Keep a dict from visitor id to that visitor's list; give a visitor an id only when the request came without one, then look the basket up by the id. (Or keep the items in the `session` itself.)",
    ],
  },
  steps: [
    {
      title: 'alice puts an item in her basket and sees it',
      async run(ctx) {
        const { alice } = itemsOf(ctx);
        // The office opens the shop at nine: alice and bob, her colleague (same network, same
        // company browser build), arrive in the same millisecond.
        ctx.visitor('alice');
        ctx.visitor('bob', { like: 'alice' });
        const first = await ctx.sameMoment(async () => {
          const page = await loadBasketPage(ctx, 'alice');
          await loadBasketPage(ctx, 'bob');
          return page;
        });
        expectOnPage(first, 'alice', [], [...alice], pageLeak(ctx, 'alice', {}));
        const page = await addByForm(ctx, 'alice', alice[0]);
        expectOnPage(page, 'alice', [alice[0]], [], pageLeak(ctx, 'alice', {}));
        await expectBasket(ctx, 'alice', [alice[0]], leak(ctx, 'alice', {}));
      },
    },
    {
      title: 'bob, a new visitor, starts with an empty basket',
      async run(ctx) {
        const { alice } = itemsOf(ctx);
        expectOnPage(await loadBasketPage(ctx, 'bob'), 'bob', [], [alice[0]], pageLeak(ctx, 'bob', { alice: [alice[0]] }));
        await expectBasket(ctx, 'bob', [], leak(ctx, 'bob', { alice: [alice[0]] }));
      },
    },
    {
      title: "bob's items stay his, alice's stay hers",
      async run(ctx) {
        const { alice, bob } = itemsOf(ctx);
        const page = await addByForm(ctx, 'bob', bob);
        expectOnPage(page, 'bob', [bob], [alice[0]], pageLeak(ctx, 'bob', { alice: [alice[0]] }));
        await expectBasket(ctx, 'bob', [bob], leak(ctx, 'bob', { alice: [alice[0]] }));
        expectOnPage(await loadBasketPage(ctx, 'alice'), 'alice', [alice[0]], [bob], pageLeak(ctx, 'alice', { bob: [bob] }));
        await expectBasket(ctx, 'alice', [alice[0]], leak(ctx, 'alice', { bob: [bob] }));
      },
    },
    {
      title: 'alice adds more and keeps everything she added',
      async run(ctx) {
        const { alice, bob } = itemsOf(ctx);
        // This time the page's script adds it, as a shop's "add" button does.
        await addItem(ctx, 'alice', alice[1], undefined, alice);
        await expectBasket(ctx, 'alice', alice, leak(ctx, 'alice', { bob: [bob] }));
        expectOnPage(await loadBasketPage(ctx, 'alice'), 'alice', alice, [bob], pageLeak(ctx, 'alice', { bob: [bob] }));
        expectOnPage(await loadBasketPage(ctx, 'bob'), 'bob', [bob], alice, pageLeak(ctx, 'bob', { alice }));
        await expectBasket(ctx, 'bob', [bob], leak(ctx, 'bob', { alice }));
      },
    },
    {
      title: 'carol, who comes later, starts empty too, and so do two apps calling the API from one office',
      async run(ctx) {
        const { alice, bob, dave } = itemsOf(ctx);
        const everyone = { alice, bob: [bob] };
        ctx.visitor('carol', { like: 'alice' });
        expectOnPage(await loadBasketPage(ctx, 'carol'), 'carol', [], [...alice, bob], pageLeak(ctx, 'carol', everyone));
        await expectBasket(ctx, 'carol', [], leak(ctx, 'carol', everyone));
        // dave's shopping app calls the API from the same office network.
        ctx.visitor('dave', { kind: 'api', like: 'alice' });
        await expectBasket(ctx, 'dave', [], leak(ctx, 'dave', everyone));
        await addItem(ctx, 'dave', dave, undefined, [dave]);
        await expectBasket(ctx, 'dave', [dave], leak(ctx, 'dave', everyone));
        await expectBasket(ctx, 'alice', alice, leak(ctx, 'alice', { dave: [dave] }));
        // erin runs the same app as dave, on the same office network: another person all the same.
        ctx.visitor('erin', { like: 'dave' });
        await expectBasket(ctx, 'erin', [], leak(ctx, 'erin', { ...everyone, dave: [dave] }));
      },
    },
    {
      title: 'alice comes back twenty minutes later, in the same browser, by a link in an email: her basket is still there',
      async run(ctx) {
        const { alice, bob } = itemsOf(ctx);
        await ctx.visitor('alice').passTime(20 * 60_000);
        // A link in her webmail: a navigation from another site, which carries no SameSite=Strict cookie.
        const page = await loadBasketPage(ctx, 'alice', undefined, 'https://mail.example.net/inbox');
        expectOnPage(page, 'alice', alice, [bob], (missing) =>
          missing.length
            ? "alice's browser did not send the cookie that says who she is. Either it ran out: a basket cookie must last as long as people keep a basket (no Max-Age, the browser session, or days); note that Express's cookie `maxAge` is in milliseconds. Or it is marked SameSite=Strict, which a browser leaves out when the visit starts from a link on another site (an email, a search result): keep it Lax, the browsers' default, and never give a visitor a new id in place of one their browser may still hold."
            : undefined,
        );
      },
    },
    {
      title: 'after a deploy, newcomers get baskets of their own, and nobody is taken for alice or bob',
      reloads: true,
      async run(ctx) {
        const { alice, bob, dave, later } = itemsOf(ctx);
        const before = { alice, bob: [bob], dave: [dave] };
        // The shop deploys a new version: the app restarts, and browsers keep their cookies.
        // Baskets kept in memory may be gone after it, but no basket may pass to someone else.
        await ctx.reload();
        // frank and grace, from the same office, open the shop for the first time and add an item each.
        for (const newcomer of ['frank', 'grace'] as const) {
          ctx.visitor(newcomer, { like: 'alice' });
          expectOnPage(await loadBasketPage(ctx, newcomer), newcomer, [], [...alice, bob, dave], pageAfterDeploy(ctx, newcomer, before));
          const page = await addByForm(ctx, newcomer, later[newcomer]);
          expectOnPage(page, newcomer, [later[newcomer]], [...alice, bob, dave], pageAfterDeploy(ctx, newcomer, before));
        }
        const newcomers = { frank: [later.frank], grace: [later.grace] };
        // alice and bob come back with the cookies their browsers kept.
        for (const regular of ['alice', 'bob'] as const) {
          const others = regular === 'alice' ? { ...newcomers, bob: [bob] } : { ...newcomers, alice };
          expectPageWithout(ctx, await loadBasketPage(ctx, regular), regular, others);
          await expectNoneOf(ctx, regular, newcomers);
        }
        // alice adds to her basket again; frank's stays his.
        await addByForm(ctx, 'alice', later.alice);
        await expectNoneOf(ctx, 'frank', { alice: [...alice, later.alice] });
      },
    },
    overlapStep((ctx) => itemsOf(ctx).together),
    guessesStep,
    dayLaterStep,
  ],
};

export default lesson;
