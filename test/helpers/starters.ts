// Where each lesson's starter fails, on both tracks: the same first failing step.

/** Where each lesson's starter must fail: the title (or its start) of its first failing step. */
export const starterFailsAt: Readonly<Record<number, string>> = {
  1: 'A price changed in the database shows at once',
  2: 'bob, a new visitor, starts with an empty basket',
  3: "alice's item added on one worker shows on another",
  4: "alice logs in with the page's form on one worker",
  5: "The staff change a price with the page's form on one worker",
  6: 'Two apps per worker buy through the API at once',
  7: "bob's page, opened while alice's is loading",
  8: 'The first night, each subscriber gets the deals email once',
  9: 'A price changed in the database shows at once',
};
