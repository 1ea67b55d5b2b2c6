// Reference data for generated activity: Microsoft first-party application ids and names as they
// appear in real sign-in logs, cities with their true coordinates, sign-in error codes with
// Entra's failure reasons, devices and client apps.

export interface FirstPartyApp {
  appId: string;
  name: string;
  /** The resource the app usually asks a token for. */
  resource: Resource;
  weight: number;
}
export interface Resource {
  id: string;
  name: string;
}

export const RESOURCES = {
  graph: { id: '00000003-0000-0000-c000-000000000000', name: 'Microsoft Graph' },
  exchange: { id: '00000002-0000-0ff1-ce00-000000000000', name: 'Office 365 Exchange Online' },
  sharepoint: { id: '00000003-0000-0ff1-ce00-000000000000', name: 'Office 365 SharePoint Online' },
  azureManagement: { id: '797f4846-ba00-4fd7-ba43-dac1f8f63013', name: 'Windows Azure Service Management API' },
  teamsServices: { id: 'cc15fd57-2c6c-4117-a88c-83b1d56b4bbe', name: 'Microsoft Teams Services' },
  officeHome: { id: '4765445b-32c6-49b0-83e6-1d93765276ca', name: 'OfficeHome' },
} satisfies Record<string, Resource>;

export const APPS: FirstPartyApp[] = [
  {
    appId: '1fec8e78-bce4-4aaf-ab1b-5451cc387264',
    name: 'Microsoft Teams',
    resource: RESOURCES.teamsServices,
    weight: 30,
  },
  { appId: '4765445b-32c6-49b0-83e6-1d93765276ca', name: 'OfficeHome', resource: RESOURCES.officeHome, weight: 14 },
  { appId: 'd3590ed6-52b3-4102-aeff-aad2292ab01c', name: 'Microsoft Office', resource: RESOURCES.graph, weight: 14 },
  {
    appId: '00000002-0000-0ff1-ce00-000000000000',
    name: 'Office 365 Exchange Online',
    resource: RESOURCES.exchange,
    weight: 12,
  },
  { appId: '27922004-5251-4030-b22d-91ecd9a37ea4', name: 'Outlook Mobile', resource: RESOURCES.exchange, weight: 8 },
  {
    appId: '00000003-0000-0ff1-ce00-000000000000',
    name: 'Office 365 SharePoint Online',
    resource: RESOURCES.sharepoint,
    weight: 8,
  },
  {
    appId: 'ab9b8c07-8f02-4f72-87fa-80105867a763',
    name: 'OneDrive SyncEngine',
    resource: RESOURCES.sharepoint,
    weight: 5,
  },
  {
    appId: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
    name: 'Azure Portal',
    resource: RESOURCES.azureManagement,
    weight: 3,
  },
  { appId: '19db86c3-b2b9-44cc-b339-36da233a3be2', name: 'My Signins', resource: RESOURCES.graph, weight: 1 },
  {
    appId: '14d82eec-204b-4c2f-b7e8-296a70dab67e',
    name: 'Microsoft Graph PowerShell',
    resource: RESOURCES.graph,
    weight: 1,
  },
  {
    appId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
    name: 'Microsoft Azure CLI',
    resource: RESOURCES.azureManagement,
    weight: 1,
  },
  { appId: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064', name: 'Graph Explorer', resource: RESOURCES.graph, weight: 1 },
];
export const APP_WEIGHTS = APPS.map((a) => [a, a.weight] as const);
export const EXCHANGE_ONLINE = APPS[3]!;

export interface City {
  city: string;
  state: string;
  country: string;
  latitude: number;
  longitude: number;
  /** First octets of the addresses handed out there (documentation-style but routable-looking). */
  prefix: string;
}

// Home offices first: most users live near them. Coordinates are the cities' centres.
export const CITIES: City[] = [
  { city: 'Redmond', state: 'Washington', country: 'US', latitude: 47.674, longitude: -122.1215, prefix: '131.107' },
  { city: 'Seattle', state: 'Washington', country: 'US', latitude: 47.6062, longitude: -122.3321, prefix: '174.21' },
  { city: 'New York', state: 'New York', country: 'US', latitude: 40.7128, longitude: -74.006, prefix: '98.116' },
  { city: 'Chicago', state: 'Illinois', country: 'US', latitude: 41.8781, longitude: -87.6298, prefix: '73.44' },
  { city: 'Toronto', state: 'Ontario', country: 'CA', latitude: 43.6532, longitude: -79.3832, prefix: '99.228' },
  { city: 'London', state: 'England', country: 'GB', latitude: 51.5074, longitude: -0.1278, prefix: '81.2' },
  { city: 'Dublin', state: 'Dublin', country: 'IE', latitude: 53.3498, longitude: -6.2603, prefix: '89.101' },
  { city: 'Amsterdam', state: 'Noord-Holland', country: 'NL', latitude: 52.3676, longitude: 4.9041, prefix: '145.53' },
  { city: 'Berlin', state: 'Berlin', country: 'DE', latitude: 52.52, longitude: 13.405, prefix: '91.64' },
  { city: 'Paris', state: 'Ile-de-France', country: 'FR', latitude: 48.8566, longitude: 2.3522, prefix: '90.84' },
  { city: 'Madrid', state: 'Madrid', country: 'ES', latitude: 40.4168, longitude: -3.7038, prefix: '83.44' },
  {
    city: 'Sydney',
    state: 'New South Wales',
    country: 'AU',
    latitude: -33.8688,
    longitude: 151.2093,
    prefix: '101.160',
  },
  { city: 'Singapore', state: 'Singapore', country: 'SG', latitude: 1.3521, longitude: 103.8198, prefix: '116.12' },
  { city: 'Tokyo', state: 'Tokyo', country: 'JP', latitude: 35.6762, longitude: 139.6503, prefix: '126.72' },
  { city: 'Mumbai', state: 'Maharashtra', country: 'IN', latitude: 19.076, longitude: 72.8777, prefix: '49.36' },
  { city: 'Sao Paulo', state: 'Sao Paulo', country: 'BR', latitude: -23.5505, longitude: -46.6333, prefix: '177.79' },
];
/** Home cities: where the organisation's people work. */
export const HOME_CITIES = CITIES.slice(0, 11);

/** Places attacks come from (for impossible travel and new-country sign-ins). */
export const HOSTILE_CITIES: City[] = [
  { city: 'Lagos', state: 'Lagos', country: 'NG', latitude: 6.5244, longitude: 3.3792, prefix: '102.89' },
  { city: 'Moscow', state: 'Moscow', country: 'RU', latitude: 55.7558, longitude: 37.6173, prefix: '95.165' },
  { city: 'Bucharest', state: 'Bucuresti', country: 'RO', latitude: 44.4268, longitude: 26.1025, prefix: '86.124' },
  { city: 'Hanoi', state: 'Ha Noi', country: 'VN', latitude: 21.0278, longitude: 105.8342, prefix: '113.185' },
  { city: 'Sao Paulo', state: 'Sao Paulo', country: 'BR', latitude: -23.5505, longitude: -46.6333, prefix: '200.147' },
];

export interface SignInError {
  code: number;
  /** null for a success: Microsoft's examples (v1.0 and beta) show `"failureReason": null` with errorCode 0. */
  reason: string | null;
  details: string | null;
}

/** The failure reason Entra gives codes it has no text for (the Sentinel export shows "Other" for 16000). */
export const OTHER_REASON = 'Other.';

export const ERRORS: Record<number, SignInError> = {
  0: { code: 0, reason: null, details: null },
  50126: {
    code: 50126,
    reason: 'Error validating credentials due to invalid username or password.',
    details:
      "The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes.",
  },
  50053: {
    code: 50053,
    reason: 'Account is locked because user tried to sign in too many times with an incorrect user ID or password.',
    details: null,
  },
  50055: { code: 50055, reason: 'The password is expired.', details: null },
  50057: {
    code: 50057,
    reason: 'User account is disabled.',
    details: 'The account has been disabled by an administrator.',
  },
  50074: {
    code: 50074,
    reason: 'Strong Authentication is required.',
    details: 'The user is required to perform multi-factor authentication.',
  },
  50076: {
    code: 50076,
    reason:
      'Due to a configuration change made by your administrator, or because you moved to a new location, ' +
      'you must use multi-factor authentication to access the resource.',
    details: null,
  },
  50140: {
    code: 50140,
    reason: "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
    details: null,
  },
  500121: {
    code: 500121,
    reason: 'Authentication failed during strong authentication request.',
    details: 'MFA denied; user did not respond to mobile app notification',
  },
  53003: {
    code: 53003,
    reason: 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
    details: null,
  },
};

/** The everyday mix of outcomes for interactive sign-ins (share of 1). */
export const ERROR_MIX: ReadonlyArray<readonly [number, number]> = [
  [0, 0.86],
  [50140, 0.035],
  [50126, 0.03],
  [50074, 0.02],
  [50076, 0.02],
  [500121, 0.01],
  [53003, 0.01],
  [50055, 0.005],
  [50053, 0.005],
  [50057, 0.005],
];

export interface DeviceProfile {
  operatingSystem: string;
  browser: string;
  userAgent: string;
  clientAppUsed: 'Browser' | 'Mobile Apps and Desktop clients';
}

export const DEVICES: DeviceProfile[] = [
  {
    operatingSystem: 'Windows10',
    browser: 'Edge 131.0.0',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    clientAppUsed: 'Browser',
  },
  {
    operatingSystem: 'Windows10',
    browser: 'Chrome 131.0.0',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    clientAppUsed: 'Browser',
  },
  {
    operatingSystem: 'Windows10',
    browser: 'Rich Client 5.2.8.0',
    userAgent: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Teams 24295.606.3238.6194)',
    clientAppUsed: 'Mobile Apps and Desktop clients',
  },
  {
    operatingSystem: 'MacOs',
    browser: 'Safari 18.1',
    userAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    clientAppUsed: 'Browser',
  },
  {
    operatingSystem: 'Ios',
    browser: 'Mobile Safari',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
    clientAppUsed: 'Mobile Apps and Desktop clients',
  },
  // Chrome Mobile is a browser, so Entra files its sign-ins under clientAppUsed "Browser".
  {
    operatingSystem: 'Android',
    browser: 'Chrome Mobile 131.0.0',
    userAgent:
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    clientAppUsed: 'Browser',
  },
];

/** Legacy authentication protocols as clientAppUsed names them. */
export const LEGACY_CLIENT_APPS = [
  'IMAP4',
  'POP3',
  'Authenticated SMTP',
  'Exchange ActiveSync',
  'Other clients',
] as const;

/**
 * User agents of legacy-protocol sign-ins. Exchange Online relays IMAP, POP, SMTP AUTH and other
 * basic-authentication clients to Entra as a resource-owner password grant whose user agent is
 * "BAV2ROPC" (basic auth to ROPC); ActiveSync clients send their own EAS agent: the iOS Mail app
 * writes its model and build ("Apple-iPhone15C4/2202.83" for iOS 18.1, build 22B83), Samsung
 * Email its model and version. Entra derives no browser from these, and an OS only from EAS.
 */
export const LEGACY_AGENTS = {
  basic: { userAgent: 'BAV2ROPC', operatingSystem: null },
  activeSyncIos: { userAgent: 'Apple-iPhone15C4/2202.83', operatingSystem: 'Ios' },
  activeSyncAndroid: { userAgent: 'SAMSUNG-SM-S921B/101.140101', operatingSystem: 'Android' },
} as const;

export const GIVEN_NAMES = [
  'Adele',
  'Alex',
  'Allan',
  'Bianca',
  'Cameron',
  'Christie',
  'Debra',
  'Diego',
  'Emily',
  'Enrico',
  'Grady',
  'Henrietta',
  'Irvin',
  'Isaiah',
  'Johanna',
  'Joni',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Patti',
  'Pradeep',
  'Priya',
  'Raul',
  'Sakura',
  'Tomasz',
  'Wei',
  'Zainab',
];
export const SURNAMES = [
  'Vance',
  'Wilber',
  'Deyoung',
  'Pisani',
  'White',
  'Cline',
  'Berry',
  'Siciliani',
  'Braun',
  'Rossi',
  'Archie',
  'Cannon',
  'Sink',
  'Henshaw',
  'Lauer',
  'Sherman',
  'Gu',
  'Holloway',
  'Robbins',
  'Bowen',
  'Bowen',
  'Wilson',
  'Fernandez',
  'Gupta',
  'Nair',
  'Ortiz',
  'Tanaka',
  'Kowalski',
  'Zhang',
  'Okafor',
];
export const DEPARTMENTS = [
  'Sales',
  'Marketing',
  'Finance',
  'Engineering',
  'IT',
  'Legal',
  'Operations',
  'Human Resources',
  'Retail',
  'Research',
];
export const PARTNER_DOMAINS = [
  'fabrikam.example',
  'northwindtraders.example',
  'adatum.example',
  'woodgrovebank.example',
  'litware.example',
];
