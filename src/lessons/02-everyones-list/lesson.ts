import type { Lesson } from '../types.ts';
import { addItem, briefBasket, expectBasket } from '../basket.ts';
import { markdown } from '../text.ts';

/** Name whose items leaked into `visitor`'s basket, for the diagnosis. */
function leak(visitor: string, owners: Record<string, readonly string[]>) {
  return (got: readonly string[]): string | undefined => {
    for (const [owner, items] of Object.entries(owners)) {
      if (owner !== visitor && got.some((item) => items.includes(item))) {
        return `${visitor} saw ${owner}'s item: the basket lives in module scope and is shared by every visitor. Identify each visitor (a cookie of their own) and keep one basket per visitor.`;
      }
    }
    if (got.length === 0) {
      return `${visitor}'s own items are gone: does each request get a new visitor id? Read the id from the cookie the browser sends back, and set a new one only when there is none.`;
    }
    return undefined;
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
    'There is one `basket` array for the whole process. Every request, from every visitor, pushes to and reads from that same array.',
    'To keep one basket per visitor you first need to tell visitors apart. Their IP address and browser signature do not do it: people in one office, or all the visitors in this check, share both. Give each browser a random id in a cookie (`cookie-parser` and `crypto.randomUUID()` are available).',
    'Keep a `Map` from visitor id to that visitor\'s basket. Set the cookie only when the request came without one, then look the basket up by the id.',
  ],
  workers: 1,
  mode: 'sequential',
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
      title: 'alice puts tea in her basket and sees it',
      async run(ctx) {
        await addItem(ctx, 'alice', 'tea');
        await expectBasket(ctx, 'alice', ['tea'], leak('alice', {}));
      },
    },
    {
      title: 'bob, a new visitor, starts with an empty basket',
      async run(ctx) {
        // bob works in alice's office: same network, same company browser build.
        ctx.visitor('bob', { like: 'alice' });
        await expectBasket(ctx, 'bob', [], leak('bob', { alice: ['tea'] }));
      },
    },
    {
      title: "bob's items stay his, alice's stay hers",
      async run(ctx) {
        await addItem(ctx, 'bob', 'milk');
        await expectBasket(ctx, 'bob', ['milk'], leak('bob', { alice: ['tea'] }));
        await expectBasket(ctx, 'alice', ['tea'], leak('alice', { bob: ['milk'] }));
      },
    },
    {
      title: 'alice adds more and keeps everything she added',
      async run(ctx) {
        await addItem(ctx, 'alice', 'bread');
        await expectBasket(ctx, 'alice', ['tea', 'bread'], leak('alice', { bob: ['milk'] }));
        await expectBasket(ctx, 'bob', ['milk'], leak('bob', { alice: ['tea', 'bread'] }));
      },
    },
    {
      title: 'carol, who comes later, starts empty too',
      async run(ctx) {
        await expectBasket(ctx, 'carol', [], leak('carol', { alice: ['tea', 'bread'], bob: ['milk'] }));
      },
    },
  ],
};

export default lesson;
