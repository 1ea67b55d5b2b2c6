// Checks that JSON bodies have the shape of Microsoft Graph's: against Microsoft's published example
// responses (compareShape) and against the v1.0 CSDL schema (conformsToMetadata). Used to hold the
// Graph simulator to the real service's contract.
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';

// The same place test/fixtures/signin-factory.ts reads from: shared/ beside the repo.
const MICROSOFT = new URL('../../../shared/fixtures/microsoft/', import.meta.url);

/** Reads and parses a fixture under shared/fixtures/microsoft/, e.g. 'graph-v1/users-list.json'. */
export function loadGraphFixture(relativePath: string): unknown {
  return JSON.parse(readFileSync(new URL(relativePath, MICROSOFT), 'utf8'));
}

// ---------------------------------------------------------------- metadata

export interface GraphProperty {
  name: string;
  /** Fully qualified, aliases resolved: 'Edm.String', 'microsoft.graph.riskLevel', 'Collection(microsoft.graph.signInLocation)'. */
  type: string;
  navigation: boolean;
}

export interface GraphStructuredType {
  kind: 'entity' | 'complex';
  /** Fully qualified, e.g. 'microsoft.graph.signIn'. */
  name: string;
  baseType?: string;
  abstract: boolean;
  /** Open types may carry dynamic properties that the schema does not list (conformsToMetadata still reports them). */
  open: boolean;
  /** Declared on this type only; see GraphMetadata.properties for the inherited set. */
  own: Map<string, GraphProperty>;
}

export interface GraphEnumType {
  name: string;
  flags: boolean;
  members: string[];
}

export interface GraphMetadata {
  structured: Map<string, GraphStructuredType>;
  enums: Map<string, GraphEnumType>;
  /** 'signIn', 'graph.signIn', '#microsoft.graph.signIn' → 'microsoft.graph.signIn'. */
  qualify(name: string): string;
  type(name: string): GraphStructuredType | undefined;
  /** Every property, own and inherited through the BaseType chain; undefined for an unknown type. */
  properties(name: string): Map<string, GraphProperty> | undefined;
  enumMembers(name: string): string[] | undefined;
  /** True when `derived` is `base` or inherits from it. */
  isSubtypeOf(derived: string, base: string): boolean;
}

const METADATA = new URL('metadata/cleanMetadata-v1.0.xml', MICROSOFT);
let cached: GraphMetadata | undefined;

type XmlNode = Record<string, unknown>;
const ARRAY_TAGS = new Set([
  'Schema',
  'EntityType',
  'ComplexType',
  'EnumType',
  'Property',
  'NavigationProperty',
  'Member',
]);
const list = (v: unknown): XmlNode[] => (Array.isArray(v) ? (v as XmlNode[]) : []);
const attr = (n: XmlNode, name: string): string | undefined => (typeof n[name] === 'string' ? n[name] : undefined);

/** Parses the v1.0 CSDL once (about half a second) and keeps it for the rest of the process. */
export function loadMetadata(): GraphMetadata {
  if (cached) return cached;
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    processEntities: false,
    // Repeated elements always as arrays, so one child and many look alike.
    isArray: (tag) => ARRAY_TAGS.has(tag),
    // Skip what a response shape never needs; it is most of the file.
    stopNodes: ['*.Annotations', '*.Annotation', '*.Action', '*.Function', '*.EntityContainer', '*.Term'],
  });
  const doc = parser.parse(readFileSync(METADATA, 'utf8')) as XmlNode;
  const services = (doc['edmx:Edmx'] as XmlNode)['edmx:DataServices'] as XmlNode;
  const schemas = list(services['Schema']);

  // Aliases ('graph', 'self') are document-wide in CSDL.
  const aliases = new Map<string, string>();
  for (const s of schemas) {
    const ns = attr(s, 'Namespace')!;
    const alias = attr(s, 'Alias');
    if (alias) aliases.set(alias, ns);
  }
  const resolve = (t: string): string => {
    const coll = /^Collection\((.*)\)$/.exec(t);
    if (coll) return `Collection(${resolve(coll[1]!)})`;
    const dot = t.lastIndexOf('.');
    if (dot < 0) return t;
    const ns = t.slice(0, dot);
    return `${aliases.get(ns) ?? ns}${t.slice(dot)}`;
  };

  const structured = new Map<string, GraphStructuredType>();
  const enums = new Map<string, GraphEnumType>();
  for (const s of schemas) {
    const ns = attr(s, 'Namespace')!;
    for (const [tag, kind] of [
      ['EntityType', 'entity'],
      ['ComplexType', 'complex'],
    ] as const) {
      for (const t of list(s[tag])) {
        const own = new Map<string, GraphProperty>();
        for (const [ptag, navigation] of [
          ['Property', false],
          ['NavigationProperty', true],
        ] as const) {
          for (const p of list(t[ptag])) {
            const name = attr(p, 'Name')!;
            own.set(name, { name, type: resolve(attr(p, 'Type')!), navigation });
          }
        }
        const base = attr(t, 'BaseType');
        structured.set(`${ns}.${attr(t, 'Name')!}`, {
          kind,
          name: `${ns}.${attr(t, 'Name')!}`,
          ...(base ? { baseType: resolve(base) } : {}),
          abstract: attr(t, 'Abstract') === 'true',
          open: attr(t, 'OpenType') === 'true',
          own,
        });
      }
    }
    for (const e of list(s['EnumType'])) {
      const name = `${ns}.${attr(e, 'Name')!}`;
      enums.set(name, {
        name,
        flags: attr(e, 'IsFlags') === 'true',
        members: list(e['Member']).map((m) => attr(m, 'Name')!),
      });
    }
  }

  const qualify = (name: string): string => {
    const n = resolve(name.replace(/^#/, ''));
    return n.includes('.') ? n : `microsoft.graph.${n}`;
  };
  const chain = (name: string): GraphStructuredType[] => {
    const out: GraphStructuredType[] = [];
    for (let t = structured.get(qualify(name)); t; t = t.baseType ? structured.get(t.baseType) : undefined) out.push(t);
    return out;
  };
  const propCache = new Map<string, Map<string, GraphProperty>>();
  cached = {
    structured,
    enums,
    qualify,
    type: (name) => structured.get(qualify(name)),
    properties(name) {
      const q = qualify(name);
      let props = propCache.get(q);
      if (!props) {
        const types = chain(q);
        if (types.length === 0) return undefined;
        // Base first, so a redeclaration lower down wins.
        props = new Map(types.reverse().flatMap((t) => [...t.own]));
        propCache.set(q, props);
      }
      return props;
    },
    enumMembers: (name) => enums.get(qualify(name))?.members,
    isSubtypeOf: (derived, base) => chain(derived).some((t) => t.name === qualify(base)),
  };
  return cached;
}

// ---------------------------------------------------------------- helpers

type JsonType = 'null' | 'string' | 'number' | 'boolean' | 'object' | 'array';
function jsonType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as JsonType;
}
const isObject = (v: unknown): v is Record<string, unknown> => jsonType(v) === 'object';
const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const at = (path: string): string => path || '(root)';

/** A path rule: a list of keys or index-free paths ('value[].location.city'), or a predicate on the real path. */
export type PathRule = string[] | ((path: string) => boolean);
function matches(rule: PathRule | undefined, path: string): boolean {
  if (!rule) return false;
  if (typeof rule === 'function') return rule(path);
  const key = path.slice(path.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
  const generic = path.replace(/\[\d+\]/g, '[]');
  return rule.includes(key) || rule.includes(generic);
}

// ---------------------------------------------------------------- compareShape

export interface ShapeOptions {
  /** Properties of the example that the actual body may leave out (simulated records may omit optional ones). */
  allowMissing?: PathRule;
  /** Properties the actual body may have that the example does not show (examples are often abridged). */
  allowExtra?: PathRule;
}

// Links and context differ per response by nature; only their JSON type is compared.
const TYPE_ONLY_KEYS = new Set(['@odata.context', '@odata.nextLink', '@odata.deltaLink']);

/**
 * Compares the shape of `actual` with Microsoft's example `expected`: property names, nesting and
 * JSON types, recursively. Values are not compared except '@odata.type'. null on either side
 * matches any type (examples often show null). Each array element is compared with the example
 * element it fits best. Returns human-readable differences; [] conforms.
 */
export function compareShape(actual: unknown, expected: unknown, path = '', opts: ShapeOptions = {}): string[] {
  const a = jsonType(actual);
  const e = jsonType(expected);
  if (a === 'null' || e === 'null') return [];
  if (a !== e) return [`${at(path)}: expected ${e}, got ${a}`];
  if (a === 'array') return compareArrays(actual as unknown[], expected as unknown[], path, opts);
  if (a !== 'object') return [];

  const act = actual as Record<string, unknown>;
  const exp = expected as Record<string, unknown>;
  const out: string[] = [];
  for (const key of Object.keys(exp)) {
    const p = join(path, key);
    if (!(key in act)) {
      if (!matches(opts.allowMissing, p)) out.push(`${p}: missing`);
    } else if (key === '@odata.type' && act[key] !== exp[key]) {
      out.push(`${p}: expected ${JSON.stringify(exp[key])}, got ${JSON.stringify(act[key])}`);
    } else if (TYPE_ONLY_KEYS.has(key)) {
      if (jsonType(act[key]) !== jsonType(exp[key]))
        out.push(`${p}: expected ${jsonType(exp[key])}, got ${jsonType(act[key])}`);
    } else {
      out.push(...compareShape(act[key], exp[key], p, opts));
    }
  }
  for (const key of Object.keys(act)) {
    const p = join(path, key);
    if (!(key in exp) && !matches(opts.allowExtra, p)) out.push(`${p}: extra property`);
  }
  return out;
}

function compareArrays(actual: unknown[], expected: unknown[], path: string, opts: ShapeOptions): string[] {
  if (expected.length === 0) return []; // An empty example says nothing about the elements.
  return actual.flatMap((item, i) => closest(item, expected, `${path}[${i}]`, opts));
}

/**
 * Differences from the example element that fits best. Candidates are the elements with the same
 * '@odata.type' when any has it, else all. Examples mix shapes in one array (directoryAudit's
 * targetResources: a group, then a user; delta pages: changed, then '@removed' items), so the
 * element with the fewest differences is used rather than always the first; ties go to the first.
 */
function closest(item: unknown, expected: unknown[], path: string, opts: ShapeOptions): string[] {
  const type = isObject(item) ? item['@odata.type'] : undefined;
  const sameType = expected.filter((x) => isObject(x) && type !== undefined && x['@odata.type'] === type);
  let best: string[] | undefined;
  for (const candidate of sameType.length > 0 ? sameType : expected) {
    const diffs = compareShape(item, candidate, path, opts);
    if (!best || diffs.length < best.length) best = diffs;
    if (best.length === 0) break;
  }
  return best ?? [];
}

// ---------------------------------------------------------------- conformsToMetadata

export interface MetadataOptions {
  /**
   * Properties to accept although the schema does not define them. Undeclared properties are
   * reported on OpenType types too (user, group, directoryObject, identitySet…): the schema lets
   * those carry dynamic properties (directory extensions 'extension_<appId>_<name>', fields not yet
   * in v1.0), but the simulator should emit none unless a test allows them here.
   */
  allowExtra?: PathRule;
}

const EDM_JSON: Record<string, JsonType | 'any'> = {
  'Edm.String': 'string',
  'Edm.Guid': 'string',
  'Edm.DateTimeOffset': 'string',
  'Edm.Date': 'string',
  'Edm.TimeOfDay': 'string',
  'Edm.Duration': 'string',
  'Edm.Binary': 'string',
  'Edm.Int16': 'number',
  'Edm.Int32': 'number',
  'Edm.Int64': 'number',
  'Edm.Byte': 'number',
  'Edm.Double': 'number',
  'Edm.Single': 'number',
  'Edm.Decimal': 'number',
  'Edm.Boolean': 'boolean',
  'Edm.Untyped': 'any',
  'Edm.Stream': 'any',
};

/**
 * Checks `value` against the v1.0 schema for `typeName` (or the type its '@odata.type' names):
 * every property must be defined for the type, JSON types must fit the EDM types, and enum
 * strings must be members (or 'unknownFutureValue'). Recurses into complex, entity and
 * collection values. Annotations ('@odata.*', 'prop@delta', '@removed'…) are allowed.
 */
export function conformsToMetadata(
  value: Record<string, unknown>,
  typeName: string,
  meta: GraphMetadata,
  opts: MetadataOptions = {},
  path = '',
): string[] {
  const declared = meta.qualify(typeName);
  let typeQ = declared;
  const out: string[] = [];
  const odataType = value['@odata.type'];
  if (typeof odataType === 'string') {
    const derived = meta.qualify(odataType);
    if (!meta.type(derived)) return [`${at(path)}: @odata.type ${odataType} is not a type in the schema`];
    if (!meta.isSubtypeOf(derived, declared))
      out.push(`${at(path)}: @odata.type ${odataType} does not derive from ${declared}`);
    typeQ = derived;
  }
  const props = meta.properties(typeQ);
  if (!props) return [`${at(path)}: ${typeQ} is not a structured type in the schema`];

  for (const [key, v] of Object.entries(value)) {
    const p = join(path, key);
    const at_ = key.indexOf('@');
    if (at_ >= 0) {
      // An annotation of the object ('@odata.type') or of a defined property ('members@delta').
      if (at_ > 0 && !props.has(key.slice(0, at_)) && !matches(opts.allowExtra, p))
        out.push(`${p}: annotates undefined property ${key.slice(0, at_)}`);
      continue;
    }
    const prop = props.get(key);
    if (!prop) {
      if (!matches(opts.allowExtra, p)) out.push(`${p}: not defined for ${typeQ}`);
      continue;
    }
    out.push(...checkValue(v, prop.type, meta, opts, p));
  }
  return out;
}

function checkValue(v: unknown, type: string, meta: GraphMetadata, opts: MetadataOptions, path: string): string[] {
  if (v === null) return [];
  const coll = /^Collection\((.*)\)$/.exec(type);
  if (coll) {
    if (!Array.isArray(v)) return [`${path}: ${type} needs an array, got ${jsonType(v)}`];
    return v.flatMap((item, i) => checkValue(item, coll[1]!, meta, opts, `${path}[${i}]`));
  }
  const edm = EDM_JSON[type];
  if (edm)
    return edm === 'any' || jsonType(v) === edm
      ? []
      : [`${path}: ${type} needs a ${edm}, got ${jsonType(v)} ${JSON.stringify(v)}`];
  const en = meta.enums.get(type);
  if (en) {
    if (typeof v !== 'string') return [`${path}: enum ${type} needs a string, got ${jsonType(v)}`];
    // Flags enums serialise as 'a,b'.
    const values = en.flags ? v.split(',').map((s) => s.trim()) : [v];
    const bad = values.filter((x) => x !== 'unknownFutureValue' && !en.members.includes(x));
    return bad.length === 0 ? [] : [`${path}: ${JSON.stringify(v)} is not a member of ${type}`];
  }
  if (meta.type(type)) {
    if (!isObject(v)) return [`${path}: ${type} needs an object, got ${jsonType(v)}`];
    return conformsToMetadata(v, type, meta, opts, path);
  }
  return [`${path}: unknown type ${type}`];
}

// ---------------------------------------------------------------- compareNulls

/**
 * Where `actual` and Microsoft's example `expected` disagree on null: a property one of them
 * writes as null and the other as a value ("" or false standing in for an unknown, a reason
 * given on success). compareShape lets null match anything, so this is the check for it. Only
 * properties both have are compared, recursively through objects; arrays are left out (their
 * elements need not correspond). Compare records of the same situation as the example (a
 * success with a success, an unregistered device with one).
 */
export function compareNulls(
  actual: unknown,
  expected: unknown,
  path = '',
  opts: { ignore?: PathRule } = {},
): string[] {
  if (!isObject(actual) || !isObject(expected)) return [];
  const out: string[] = [];
  for (const key of Object.keys(expected)) {
    if (!(key in actual)) continue;
    const p = join(path, key);
    if (matches(opts.ignore, p)) continue;
    const a = actual[key];
    const e = expected[key];
    if (e === null && a !== null) out.push(`${p}: example null, got ${JSON.stringify(a)}`);
    else if (e !== null && a === null) out.push(`${p}: example ${JSON.stringify(e)}, got null`);
    else out.push(...compareNulls(a, e, p, opts));
  }
  return out;
}
