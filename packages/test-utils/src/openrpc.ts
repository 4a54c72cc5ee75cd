// Validation of the OpenRPC document and of answers against its schemas,
// with ajv (JSON Schema draft 7, as OpenRPC 1.2 uses) and ajv-formats,
// against @open-rpc/meta-schema (whose JSON Schemas refer to
// @json-schema-tools/meta-schema, added under its $id so nothing is fetched).
import jsonSchemaModule from '@json-schema-tools/meta-schema';
import metaSchemaModule from '@open-rpc/meta-schema';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';

// All are CommonJS: their default export may come wrapped once more.
const unwrap = <T>(m: T): T => (m as { default?: T }).default ?? m;
const openRpcMetaSchema = unwrap(metaSchemaModule) as object;
// Its default export has a `default` keyword of its own: take the named one.
const jsonSchema = ((jsonSchemaModule as { jsonSchema?: object }).jsonSchema ??
  jsonSchemaModule) as object;
const addFormats = unwrap(formatsModule) as unknown as (ajv: Ajv) => Ajv;

function newAjv(): Ajv {
  // strict: false, since the meta-schemas use keywords of their own (title on
  // every node, `default` beside `$ref`).
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

/** Errors of `doc` against the OpenRPC meta-schema; empty when it is valid. */
export function openRpcErrors(doc: unknown): string[] {
  const ajv = newAjv();
  ajv.addSchema(jsonSchema, 'https://meta.json-schema.tools');
  const validate = ajv.compile(openRpcMetaSchema);
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/**
 * A validator per method of `doc`: its result schema, with the document's
 * `components` in reach of its `#/components/schemas/…` references.
 */
export function resultValidators(doc: {
  methods: readonly { name: string; result?: { schema: object } }[];
  components: object;
}): Map<string, ValidateFunction> {
  const ajv = newAjv();
  const out = new Map<string, ValidateFunction>();
  for (const m of doc.methods) {
    if (m.result === undefined) continue;
    out.set(m.name, ajv.compile({ ...m.result.schema, components: doc.components }));
  }
  return out;
}

/** `validate(value)`'s errors as text; empty when valid. */
export function schemaErrors(validate: ValidateFunction, value: unknown): string[] {
  return validate(value)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** A validator of one schema (e.g. a subscription payload's). */
export function schemaValidator(schema: object): ValidateFunction {
  return newAjv().compile(schema);
}
