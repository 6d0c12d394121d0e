// A domain's schema as browsable types, and a GraphiQL query over its
// root fields, read with graphql-js's parser.
import { parse } from 'graphql/language/parser.mjs';

function typeRef(t) {
  if (t.kind === 'NonNullType') return `${typeRef(t.type)}!`;
  if (t.kind === 'ListType') return `[${typeRef(t.type)}]`;
  return t.name.value;
}

function namedType(t) {
  return t.kind === 'NamedType' ? t.name.value : namedType(t.type);
}

const KINDS = {
  ObjectTypeDefinition: 'type',
  ObjectTypeExtension: 'type',
  InterfaceTypeDefinition: 'interface',
  InterfaceTypeExtension: 'interface',
  InputObjectTypeDefinition: 'input',
  InputObjectTypeExtension: 'input',
  EnumTypeDefinition: 'enum',
  EnumTypeExtension: 'enum',
  UnionTypeDefinition: 'union',
  UnionTypeExtension: 'union',
  ScalarTypeDefinition: 'scalar',
  ScalarTypeExtension: 'scalar',
};

// Types of an SDL document, extensions merged into their type; federation's
// own link/directive definitions are left out.
export function schemaTypes(sdl) {
  let doc;
  try {
    doc = parse(sdl, { noLocation: true });
  } catch (e) {
    return { error: e.message, types: [] };
  }
  const byName = new Map();
  for (const def of doc.definitions) {
    const kind = KINDS[def.kind];
    if (!kind) continue;
    const name = def.name.value;
    if (name.startsWith('link__') || name.startsWith('join__') || name === '_Any' || name === '_Service' || name === '_Entity') continue;
    const entry = byName.get(name) || { name, kind, description: '', fields: [], keys: [] };
    if (def.description) entry.description = def.description.value;
    for (const d of def.directives || []) {
      if (d.name.value === 'key') {
        const fields = (d.arguments || []).find((a) => a.name.value === 'fields');
        if (fields && fields.value.kind === 'StringValue') entry.keys.push(fields.value.value);
      }
    }
    for (const f of def.fields || []) {
      const args = (f.arguments || []).map((a) => `${a.name.value}: ${typeRef(a.type)}`);
      entry.fields.push({
        name: f.name.value,
        type: typeRef(f.type),
        named: namedType(f.type),
        args: f.arguments || [],
        signature: args.length ? `(${args.join(', ')})` : '',
        description: f.description ? f.description.value : '',
      });
    }
    for (const v of def.values || []) {
      entry.fields.push({ name: v.name.value, type: '', named: '', args: [], signature: '', description: v.description ? v.description.value : '' });
    }
    for (const t of def.types || []) {
      entry.fields.push({ name: t.name.value, type: '', named: t.name.value, args: [], signature: '', description: '' });
    }
    byName.set(name, entry);
  }
  const order = { type: 0, interface: 1, union: 2, enum: 3, input: 4, scalar: 5 };
  const types = [...byName.values()].sort((a, b) => {
    const root = (t) => (t.name === 'Query' ? 0 : t.name === 'Mutation' ? 1 : 2);
    return root(a) - root(b) || order[a.kind] - order[b.kind] || a.name.localeCompare(b.name);
  });
  return { error: null, types };
}

const SCALARS = new Set(['ID', 'String', 'Int', 'Float', 'Boolean']);

// A query over the domain's root fields: each with its arguments as
// variables and the scalar fields of what it returns.
export function rootQuery(domain, types) {
  const query = types.find((t) => t.name === 'Query');
  if (!query || !query.fields.length) return `# ${domain} has no root query fields of its own\n`;
  const byName = new Map(types.map((t) => [t.name, t]));
  const vars = [];
  const selections = query.fields.map((f) => {
    const args = f.args.map((a) => {
      let v = a.name.value;
      while (vars.some((x) => x.name === v)) v = `${v}_`;
      vars.push({ name: v, type: typeRef(a.type) });
      return `${a.name.value}: $${v}`;
    });
    const target = byName.get(f.named);
    let sub = '';
    if (target && (target.kind === 'type' || target.kind === 'interface')) {
      const scalars = target.fields.filter((x) => (SCALARS.has(x.named) || byName.get(x.named)?.kind === 'enum') && !x.args.some((a) => a.type.kind === 'NonNullType'));
      sub = ` { ${(scalars.length ? scalars : [{ name: '__typename' }]).map((x) => x.name).join(' ')} }`;
    } else if (target && target.kind === 'union') {
      sub = ' { __typename }';
    }
    return `  ${f.name}${args.length ? `(${args.join(', ')})` : ''}${sub}`;
  });
  const name = domain.replace(/(^|-)([a-z0-9])/g, (_, __, c) => c.toUpperCase()).replace(/[^A-Za-z0-9_]/g, '');
  const header = vars.length ? `(${vars.map((v) => `$${v.name}: ${v.type}`).join(', ')})` : '';
  return `# The root fields ${domain} serves in the mesh (set the variables below)\nquery ${name || 'Domain'}${header} {\n${selections.join('\n')}\n}\n`;
}
