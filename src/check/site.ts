// Where the check's visitors find the shop: a domain name of its own, reached over https through
// the host's front proxy, as people reach a deployed site. Drawn from the run's seed, so a run
// replays with --seed and runs differ from one another; the TCP connection still goes to the
// course's balancer on the loopback address.

type Random = () => number;

const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

const FIRST = ['honey', 'meadow', 'orchard', 'larder', 'pantry', 'copper', 'harbour', 'hilltop', 'willow', 'bramble', 'juniper', 'saffron', 'north', 'little', 'old', 'green', 'maple', 'fern', 'river', 'stone'];
const SECOND = ['hive', 'market', 'corner', 'goods', 'store', 'kitchen', 'and-co', 'lane', 'house', 'trading', 'supply', 'crafts', 'provisions', 'basket', 'bazaar', 'shed'];
const SUFFIXES = ['com', 'com', 'com', 'co.uk', 'shop', 'store', 'de', 'nl', 'fr', 'com.au', 'ca', 'net', 'io', 'ie', 'co'];
/** Most sites are served at their bare domain, some at www. or a shop. subdomain. */
const PREFIXES = ['', '', '', '', 'www.', 'www.', 'shop.'];

/** A shop's domain name, as people type it: "www.bramble-market.co.uk". */
export function drawSiteDomain(random: Random): string {
  const first = pick(random, FIRST);
  const second = pick(random, SECOND);
  const joined = random() < 0.5 ? `${first}${second.replace(/-/g, '')}` : `${first}-${second}`;
  return `${pick(random, PREFIXES)}${joined}.${pick(random, SUFFIXES)}`;
}

/** The site's address as its visitors use it: https, the domain, no port. */
export function siteUrl(domain: string): string {
  return `https://${domain}`;
}
