/**
 * Seeded, deterministic project data: the same seed and size always give the
 * same profiles, events, cohorts, reports and Lexicon, relative to `now`.
 */
import type { Annotation, AnnotationTag, LexiconPropertySchema, LexiconSchema } from '../mixpanel/types.js';
import { DAY_MS } from './dates.js';
import type { EmulatorBookmark, EmulatorCohort, EmulatorEvent, EmulatorFunnel, EmulatorProfile, EmulatorProjectData, LexiconEntryState } from './types.js';

/** How much data one project gets. */
export interface DataSize {
  readonly profiles: number;
  readonly events: number;
  /** Events span the last `days` days up to "now". */
  readonly days: number;
  /** Group profiles under the "company" group key. */
  readonly groups: number;
}

export type DataSizeName = 'demo' | 'small';

export const DATA_SIZES: Readonly<Record<DataSizeName, DataSize>> = {
  demo: { profiles: 10_000, events: 200_000, days: 90, groups: 200 },
  small: { profiles: 500, events: 5_000, days: 30, groups: 20 },
};

/** mulberry32: a tiny, fast PRNG with a 32-bit state; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const hex8 = (random: Random): string =>
  Math.floor(random() * 4294967296)
    .toString(16)
    .padStart(8, '0');

/** "2024-01-02T03:04:05": the format engage returns for $created and $last_seen. */
const profileTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
/** "2019-03-19 23:49:51": cohorts/list and annotations. */
const listTime = (ms: number): string => profileTime(ms).replace('T', ' ');

/** Names in descending popularity: the generator draws them Zipf-like. */
export const EVENT_NAMES: readonly string[] = [
  'View Page',
  'Log In',
  'App Open',
  'Search',
  'View Dashboard',
  'Add To Cart',
  'Watch Video',
  'Send Message',
  'View Pricing',
  'Open Email',
  'Click Email Link',
  'Download File',
  'Upload File',
  'Update Profile',
  'Share Report',
  'Begin Checkout',
  'Purchase',
  'Remove From Cart',
  'Create Project',
  'Export Data',
  'Sign Up',
  'Complete Onboarding',
  'Start Trial',
  'Invite Teammate',
  'Create Dashboard',
  'Log Out',
  'Apply Coupon',
  'Add Payment Method',
  'Upgrade Plan',
  'Enable Integration',
  'Submit Feedback',
  'Rate App',
  'Contact Support',
  'End Trial',
  'Disable Integration',
  'Create API Key',
  'Downgrade Plan',
  'Delete Project',
  'Refund',
  'Cancel Subscription',
];

const FIRST_NAMES = [
  'Ava',
  'Ben',
  'Chloe',
  'Daniel',
  'Emma',
  'Felix',
  'Grace',
  'Hugo',
  'Isla',
  'Jack',
  'Kira',
  'Liam',
  'Maya',
  'Noah',
  'Olivia',
  'Paul',
  'Quinn',
  'Rosa',
  'Sam',
  'Tara',
  'Umar',
  'Vera',
  'Will',
  'Yara',
  'Zoe',
  'Aiko',
  'Mateo',
  'Priya',
  'Lars',
  'Nadia',
];
const LAST_NAMES = [
  'Smith',
  'Garcia',
  'Müller',
  'Rossi',
  'Dubois',
  'Tanaka',
  'Kowalski',
  'Silva',
  'Johnson',
  'Brown',
  'Nguyen',
  'Patel',
  'Kim',
  'Larsen',
  'Novak',
  'Cohen',
  'Okafor',
  'Haddad',
  'Jensen',
  'Moreau',
  'Schmidt',
  'Lopez',
  'Wilson',
  'Ivanova',
  'Chen',
];
const PLACES: readonly (readonly [city: string, region: string, country: string])[] = [
  ['San Francisco', 'California', 'US'],
  ['New York', 'New York', 'US'],
  ['Austin', 'Texas', 'US'],
  ['Seattle', 'Washington', 'US'],
  ['Chicago', 'Illinois', 'US'],
  ['Boston', 'Massachusetts', 'US'],
  ['Toronto', 'Ontario', 'CA'],
  ['London', 'England', 'GB'],
  ['Manchester', 'England', 'GB'],
  ['Berlin', 'Berlin', 'DE'],
  ['Munich', 'Bavaria', 'DE'],
  ['Paris', 'Île-de-France', 'FR'],
  ['Madrid', 'Madrid', 'ES'],
  ['Milan', 'Lombardy', 'IT'],
  ['Amsterdam', 'North Holland', 'NL'],
  ['Stockholm', 'Stockholm', 'SE'],
  ['Tokyo', 'Tokyo', 'JP'],
  ['Sydney', 'New South Wales', 'AU'],
  ['São Paulo', 'São Paulo', 'BR'],
  ['Bengaluru', 'Karnataka', 'IN'],
];
const COMPANY_WORDS = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Stark',
  'Wayne',
  'Wonka',
  'Tyrell',
  'Soylent',
  'Cyberdyne',
  'Aperture',
  'Vandelay',
  'Pied Piper',
  'Massive Dynamic',
  'Oscorp',
  'Nakatomi',
  'Gringotts',
  'Monarch',
  'Dunder',
];
const COMPANY_SUFFIXES = ['Inc', 'Labs', 'GmbH', 'Ltd', 'Systems', 'Group', 'Co', 'Analytics', 'Cloud', 'Works'];
const INDUSTRIES = ['Software', 'Retail', 'Finance', 'Healthcare', 'Media', 'Education', 'Logistics', 'Gaming'];
const BROWSERS = ['Chrome', 'Chrome', 'Chrome', 'Safari', 'Safari', 'Firefox', 'Edge'];
const OSES = ['Mac OS X', 'Windows', 'Windows', 'iOS', 'Android', 'Linux'];
const UTM_SOURCES = ['google', 'newsletter', 'twitter', 'linkedin', 'partner', 'direct'];
const PRODUCTS = ['Starter Kit', 'Pro Bundle', 'Analytics Add-on', 'Team Seat', 'Storage Pack', 'Support Plan'];
const PAGES = ['/', '/pricing', '/docs', '/blog', '/features', '/signup', '/dashboard', '/settings'];
const PLANS = ['Free', 'Pro', 'Enterprise'] as const;

function choosePlan(random: Random): (typeof PLANS)[number] {
  const r = random();
  return r < 0.6 ? 'Free' : r < 0.9 ? 'Pro' : 'Enterprise';
}

function lifetimeValue(random: Random, plan: string): number {
  const base = plan === 'Free' ? random() * 40 : plan === 'Pro' ? 200 + random() * 2_800 : 5_000 + random() * 15_000;
  return Math.round(base * 100) / 100;
}

function companyNames(count: number, random: Random): string[] {
  const names = new Set<string>();
  for (let k = 0; names.size < count && k < count * 20; k++) names.add(`${pick(random, COMPANY_WORDS)} ${pick(random, COMPANY_SUFFIXES)}`);
  for (let k = names.size; names.size < count; k++) names.add(`Company ${k + 1}`);
  return [...names];
}

function generateGroups(names: readonly string[], random: Random, now: number): Map<string, EmulatorProfile> {
  const groups = new Map<string, EmulatorProfile>();
  for (const name of names) {
    groups.set(name, {
      distinctId: name,
      properties: {
        $name: name,
        industry: pick(random, INDUSTRIES),
        employees: int(random, 5, 5_000),
        plan: choosePlan(random),
        $created: profileTime(now - int(random, 30, 1_000) * DAY_MS),
      },
    });
  }
  return groups;
}

function generateProfiles(count: number, companies: readonly string[], random: Random, now: number): EmulatorProfile[] {
  const profiles: EmulatorProfile[] = [];
  for (let i = 0; i < count; i++) {
    const first = pick(random, FIRST_NAMES);
    const last = pick(random, LAST_NAMES);
    const [city, region, country] = pick(random, PLACES);
    const plan = choosePlan(random);
    const created = now - Math.floor(random() * 365 * DAY_MS);
    const lastSeen = created + Math.floor(random() * (now - created));
    const distinctId = `${hex8(random)}-${hex8(random).slice(0, 4)}-${hex8(random)}`;
    const properties: Record<string, unknown> = {
      $email: `${first}.${last}${i}@example.com`
        .toLowerCase()
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, ''),
      $name: `${first} ${last}`,
      $first_name: first,
      $last_name: last,
      $city: city,
      $region: region,
      $country_code: country,
      $created: profileTime(created),
      $last_seen: profileTime(lastSeen),
      $browser: pick(random, BROWSERS),
      $os: pick(random, OSES),
      plan,
      age: int(random, 18, 75),
      lifetime_value: lifetimeValue(random, plan),
    };
    // 30% have no company, so "defined(...)" cohorts have something to tell apart.
    if (random() < 0.7 && companies.length > 0) properties.company = pick(random, companies);
    profiles.push({ distinctId, properties });
  }
  return profiles;
}

/** Extra properties some events carry, beyond the common ones. */
function specificProperties(event: string, random: Random, profile: EmulatorProfile): Record<string, unknown> | undefined {
  switch (event) {
    case 'Purchase':
    case 'Add To Cart':
    case 'Remove From Cart':
    case 'Begin Checkout':
      return { product: pick(random, PRODUCTS), price: Math.round((5 + random() * 495) * 100) / 100, quantity: int(random, 1, 5), currency: 'USD' };
    case 'Refund':
      return { price: Math.round((5 + random() * 495) * 100) / 100, currency: 'USD' };
    case 'View Page':
      return { page: pick(random, PAGES), $current_url: `https://app.example.com${pick(random, PAGES)}` };
    case 'Search':
      return { query: pick(random, ['pricing', 'export', 'cohorts', 'api', 'funnels', 'retention']), results: int(random, 0, 50) };
    case 'Upgrade Plan':
    case 'Downgrade Plan':
    case 'Start Trial':
      return { plan: pick(random, PLANS) };
    case 'Watch Video':
      return { video: pick(random, ['Intro', 'Onboarding', 'Webinar', 'Changelog']), duration: int(random, 10, 1_800) };
    case 'Sign Up':
      return { signup_method: pick(random, ['email', 'google', 'github']), plan: profile.properties.plan };
    case 'Rate App':
      return { rating: int(random, 1, 5) };
    default:
      return undefined;
  }
}

const SPECIFIC_SCHEMAS: Readonly<Record<string, Readonly<Record<string, LexiconPropertySchema>>>> = (() => {
  const money = {
    product: { type: 'string', description: 'Product name' },
    price: { type: 'number', description: 'Unit price in currency units' },
    quantity: { type: 'integer', description: 'Items in the line' },
    currency: { type: 'string', description: 'ISO 4217 currency code' },
  } as const;
  const plan = { plan: { type: 'string', description: 'Plan involved: Free, Pro or Enterprise' } } as const;
  return {
    Purchase: money,
    'Add To Cart': money,
    'Remove From Cart': money,
    'Begin Checkout': money,
    Refund: { price: money.price, currency: money.currency },
    'View Page': { page: { type: 'string', description: 'Path of the page' }, $current_url: { type: 'string', description: 'Full URL' } },
    Search: { query: { type: 'string', description: 'Search terms' }, results: { type: 'integer', description: 'Number of hits' } },
    'Upgrade Plan': plan,
    'Downgrade Plan': plan,
    'Start Trial': plan,
    'Watch Video': { video: { type: 'string', description: 'Video title' }, duration: { type: 'integer', description: 'Seconds watched' } },
    'Sign Up': { signup_method: { type: 'string', description: 'How the user signed up' }, ...plan },
    'Rate App': { rating: { type: 'integer', description: 'Stars, 1 to 5' } },
  };
})();

const COMMON_EVENT_SCHEMA: Readonly<Record<string, LexiconPropertySchema>> = {
  $browser: { type: 'string', description: 'Browser of the device' },
  $os: { type: 'string', description: 'Operating system of the device' },
  $city: { type: 'string', description: 'City, from the IP address' },
  mp_country_code: { type: 'string', description: 'Country code, from the IP address' },
  utm_source: { type: 'string', description: 'Campaign source' },
};

function generateEvents(count: number, days: number, profiles: readonly EmulatorProfile[], random: Random, now: number): EmulatorEvent[] {
  if (profiles.length === 0) return [];
  const start = now - days * DAY_MS;
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) times[i] = start + random() * (now - start);
  times.sort();
  // Zipf-like weights: the first names in EVENT_NAMES are the most frequent.
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 0; k < EVENT_NAMES.length; k++) {
    total += 1 / (k + 1) ** 0.9;
    cumulative.push(total);
  }
  const events: EmulatorEvent[] = new Array(count);
  for (let i = 0; i < count; i++) {
    // Squaring the draw makes a minority of users account for most events, like real products.
    const profile = profiles[Math.floor(random() ** 2 * profiles.length)] as EmulatorProfile;
    const target = random() * total;
    let k = 0;
    while ((cumulative[k] as number) < target) k++;
    const name = EVENT_NAMES[k] as string;
    const timeMs = times[i] as number;
    const p = profile.properties;
    const properties: Record<string, unknown> = {
      $browser: p.$browser,
      $os: p.$os,
      $city: p.$city,
      mp_country_code: p.$country_code,
      mp_processing_time_ms: Math.floor(timeMs) + int(random, 500, 60_000),
    };
    if (random() < 0.4) properties.utm_source = pick(random, UTM_SOURCES);
    const extra = specificProperties(name, random, profile);
    if (extra) Object.assign(properties, extra);
    events[i] = {
      event: name,
      time: Math.floor(timeMs / 1000),
      distinctId: profile.distinctId,
      insertId: `${hex8(random)}${hex8(random)}-${hex8(random)}${hex8(random)}`,
      properties,
    };
  }
  return events;
}

const COHORT_RULES: readonly (readonly [name: string, description: string, where: string])[] = [
  ['Pro users', 'Profiles on the Pro plan', 'properties["plan"] == "Pro"'],
  ['Enterprise users', 'Profiles on the Enterprise plan', 'properties["plan"] == "Enterprise"'],
  ['Free users', 'Profiles on the Free plan', 'properties["plan"] == "Free"'],
  ['US users', 'Profiles located in the United States', 'properties["$country_code"] == "US"'],
  ['European users', 'Profiles located in the EU or the UK', 'properties["$country_code"] in ["DE", "FR", "GB", "ES", "IT", "NL", "SE"]'],
  ['High lifetime value', 'Lifetime value above 1,000', 'properties["lifetime_value"] > 1000'],
  ['Young adults', 'Aged 18 to 29', 'properties["age"] >= 18 and properties["age"] < 30'],
  ['Seniors', 'Aged 60 or more', 'properties["age"] >= 60'],
  ['Chrome users', 'Last seen on Chrome', 'properties["$browser"] == "Chrome"'],
  ['Mobile users', 'Last seen on iOS or Android', 'properties["$os"] == "iOS" or properties["$os"] == "Android"'],
  ['Paying mobile users', 'Paid plan, on mobile', 'properties["plan"] != "Free" and (properties["$os"] == "iOS" or properties["$os"] == "Android")'],
  ['With a company', 'Profiles linked to a company', 'defined(properties["company"])'],
  ['Without a company', 'Profiles not linked to a company', 'not defined(properties["company"])'],
  ['Berlin', 'Profiles in Berlin', 'properties["$city"] == "Berlin"'],
  ['Pro users in the US', 'Pro plan, United States', 'properties["plan"] == "Pro" and properties["$country_code"] == "US"'],
  ['Enterprise whales', 'Enterprise plan with lifetime value above 10,000', 'properties["plan"] == "Enterprise" and properties["lifetime_value"] > 10000'],
  ['Safari on Mac', 'Safari on Mac OS X', 'properties["$browser"] == "Safari" and properties["$os"] == "Mac OS X"'],
  ['Windows users', 'Last seen on Windows', 'properties["$os"] == "Windows"'],
  ['Aged 30 to 45', 'Aged 30 to 45', 'properties["age"] >= 30 and properties["age"] <= 45'],
  ['Free users over 50', 'Free plan, aged over 50', 'properties["plan"] == "Free" and properties["age"] > 50'],
];

function generateCohorts(random: Random, now: number): EmulatorCohort[] {
  return COHORT_RULES.map(([name, description, where], k) => ({
    id: 1000 + k,
    name,
    description,
    created: listTime(now - int(random, 10, 700) * DAY_MS - int(random, 0, 86_399) * 1000),
    // Every fifth cohort is hidden, so is_visible:0 shows up in cohorts/list.
    isVisible: k % 5 !== 4,
    where,
  }));
}

const FUNNELS: readonly EmulatorFunnel[] = [
  { funnelId: 7509, name: 'Signup funnel', steps: ['Sign Up', 'Complete Onboarding', 'Create Project'] },
  { funnelId: 9070, name: 'Purchase funnel', steps: ['View Pricing', 'Add To Cart', 'Begin Checkout', 'Purchase'] },
  { funnelId: 9071, name: 'Trial conversion', steps: ['Start Trial', 'Upgrade Plan'] },
];

const BOOKMARKS: readonly EmulatorBookmark[] = [
  { bookmarkId: 12345, name: 'Daily logins', event: 'Log In' },
  { bookmarkId: 12346, name: 'Purchases', event: 'Purchase' },
  { bookmarkId: 12347, name: 'Page views', event: 'View Page' },
];

function metadata(displayName: string, tags: readonly string[]) {
  return { 'com.mixpanel': { displayName, hidden: false, dropped: false, tags: [...tags] } };
}

function describeProperties(schemas: Readonly<Record<string, LexiconPropertySchema>>): Record<string, LexiconPropertySchema> {
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [name, { ...schema, metadata: { 'com.mixpanel': { displayName: name, hidden: false, dropped: false } } }]),
  );
}

function generateLexicon(): Map<string, LexiconEntryState> {
  const lexicon = new Map<string, LexiconEntryState>();
  for (const name of EVENT_NAMES) {
    const schemaJson: LexiconSchema = {
      $schema: 'http://json-schema.org/draft-07/schema',
      description: `Tracked when a user performs "${name}"`,
      properties: describeProperties({ ...COMMON_EVENT_SCHEMA, ...SPECIFIC_SCHEMAS[name] }),
      metadata: metadata(name, SPECIFIC_SCHEMAS[name]?.price ? ['revenue'] : []),
    };
    lexicon.set(`event:${name}`, { entityType: 'event', name, schemaJson });
  }
  const user: LexiconSchema = {
    $schema: 'http://json-schema.org/draft-07/schema',
    description: 'User profile',
    properties: describeProperties({
      $email: { type: 'string', description: 'Email address' },
      $name: { type: 'string', description: 'Full name' },
      $first_name: { type: 'string', description: 'First name' },
      $last_name: { type: 'string', description: 'Last name' },
      $city: { type: 'string', description: 'City' },
      $region: { type: 'string', description: 'Region or state' },
      $country_code: { type: 'string', description: 'ISO 3166 country code' },
      $created: { type: 'string', description: 'When the profile was created' },
      $last_seen: { type: 'string', description: 'Last activity' },
      plan: { type: 'string', description: 'Subscription plan: Free, Pro or Enterprise' },
      age: { type: 'integer', description: 'Age in years' },
      lifetime_value: { type: 'number', description: 'Revenue from this user, USD' },
      company: { type: 'string', description: 'Company (group key "company")' },
    }),
    metadata: metadata('User', ['core']),
  };
  lexicon.set('profile:$user', { entityType: 'profile', name: '$user', schemaJson: user });
  return lexicon;
}

function generateAnnotations(now: number, projectId: number): { annotations: Annotation[]; tags: AnnotationTag[] } {
  const tags: AnnotationTag[] = [
    { id: 1, name: 'release', project_id: projectId, has_annotations: true },
    { id: 2, name: 'marketing', project_id: projectId, has_annotations: true },
  ];
  const user = { id: 1, first_name: 'Demo', last_name: 'Admin' };
  const at = (daysAgo: number): string => `${listTime(now - daysAgo * DAY_MS).slice(0, 10)} 12:00:00`;
  const annotations: Annotation[] = [
    { id: 1, date: at(60), description: 'Launched v2 onboarding', user, tags: [{ id: 1, name: 'release' }] },
    { id: 2, date: at(30), description: 'Spring newsletter campaign', user, tags: [{ id: 2, name: 'marketing' }] },
    { id: 3, date: at(7), description: 'Pricing page redesign', user, tags: [{ id: 1, name: 'release' }] },
  ];
  return { annotations, tags };
}

export interface GenerateOptions {
  readonly projectId: string;
  readonly token: string;
  readonly seed: number;
  readonly size: DataSize;
  /** Data ends here (epoch ms). */
  readonly now: number;
}

/** Builds one project's data. The default demo size takes well under two seconds. */
export function generateProjectData(options: GenerateOptions): EmulatorProjectData {
  const random = mulberry32(options.seed);
  const { size, now } = options;
  const companies = companyNames(size.groups, random);
  const groups = new Map([['company', generateGroups(companies, random, now)]]);
  const profileList = generateProfiles(size.profiles, companies, random, now);
  const events = generateEvents(size.events, size.days, profileList, random, now);
  const { annotations, tags } = generateAnnotations(now, Number(options.projectId));
  return {
    projectId: options.projectId,
    token: options.token,
    profiles: new Map(profileList.map((p) => [p.distinctId, p])),
    groups,
    events,
    cohorts: generateCohorts(random, now),
    funnels: FUNNELS.map((f) => ({ ...f, steps: [...f.steps] })),
    bookmarks: BOOKMARKS.map((b) => ({ ...b })),
    lexicon: generateLexicon(),
    annotations,
    annotationTags: tags,
  };
}
