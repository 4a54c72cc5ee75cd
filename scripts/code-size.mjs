// Sizes of the code: lines per source file and per function, for every
// package's src/ (and testnet/src). Prints the largest of each and a summary,
// so that a refactor states its figures before and after:
//
//   node scripts/code-size.mjs [--top N] [--max-fn LINES] [--json | --summary] [DIR...]
//
// With --max-fn, exits 1 when a function is longer than LINES (a nested
// function counts in its parent's lines and on its own). Functions are every
// function declaration, function expression, arrow function, method and
// class body member, measured from their first line to their last.
// Parsed by @babel/parser (TypeScript plugin): the TypeScript 7 package has
// no JavaScript compiler API.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from '@babel/parser';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const top = Number(opt('--top', '15'));
const maxFn = opt('--max-fn', undefined);
const json = args.includes('--json');
const summaryOnly = args.includes('--summary');
const dirs = args.filter((a) => !a.startsWith('--'));

function srcDirs() {
  const out = [];
  for (const p of readdirSync(join(root, 'packages'))) {
    // Test-only helpers are test code, as scripts/testing was before the move.
    if (p === 'test-utils') continue;
    for (const sub of ['src', 'cli']) {
      const d = join(root, 'packages', p, sub);
      if (statSync(d, { throwIfNoEntry: false })?.isDirectory()) out.push(d);
    }
  }
  out.push(join(root, 'testnet', 'src'));
  return out;
}

function walk(dir, files = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, files);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) files.push(p);
  }
  return files;
}

const FN_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ObjectMethod',
  'ClassMethod',
  'ClassPrivateMethod',
]);

function nameOf(node, parent) {
  if (node.id?.name) return node.id.name;
  if (node.key?.name) return node.key.name;
  if (parent?.type === 'VariableDeclarator' && parent.id?.name) return parent.id.name;
  if (parent?.type === 'ObjectProperty' && parent.key?.name) return parent.key.name;
  if (parent?.type === 'ClassProperty' && parent.key?.name) return parent.key.name;
  return '(anonymous)';
}

function functionsOf(ast) {
  const out = [];
  const visit = (node, parent) => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, parent);
      return;
    }
    if (typeof node.type !== 'string') return;
    if (FN_TYPES.has(node.type)) {
      out.push({
        name: nameOf(node, parent),
        line: node.loc.start.line,
        lines: node.loc.end.line - node.loc.start.line + 1,
      });
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'loc' || k === 'start' || k === 'end' || k === 'leadingComments') continue;
      if (v !== null && typeof v === 'object') visit(v, node);
    }
  };
  visit(ast.program, null);
  return out;
}

const files = (dirs.length > 0 ? dirs.map((d) => join(process.cwd(), d)) : srcDirs()).flatMap((d) =>
  walk(d),
);
const fileRows = [];
const fnRows = [];
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const rel = relative(root, f);
  fileRows.push({ file: rel, lines: text.split('\n').length });
  const ast = parse(text, {
    sourceType: 'module',
    plugins: f.endsWith('.tsx') ? ['typescript', 'jsx'] : ['typescript'],
    errorRecovery: true,
  });
  for (const fn of functionsOf(ast)) fnRows.push({ file: rel, ...fn });
}
fileRows.sort((a, b) => b.lines - a.lines);
fnRows.sort((a, b) => b.lines - a.lines);
const over = (n) => fnRows.filter((r) => r.lines > n).length;
const summary = {
  files: fileRows.length,
  lines: fileRows.reduce((s, r) => s + r.lines, 0),
  largestFile: fileRows[0],
  functions: fnRows.length,
  functionsOver100: over(100),
  functionsOver150: over(150),
  functionsOver300: over(300),
  largestFunction: fnRows[0],
};
if (json) {
  console.log(
    JSON.stringify(
      { summary, files: fileRows.slice(0, top), functions: fnRows.slice(0, top) },
      null,
      1,
    ),
  );
} else if (summaryOnly) {
  console.log(
    `code size: ${summary.files} files, ${summary.lines} lines; ${summary.functions} functions, ` +
      `${summary.functionsOver150} over 150 lines (largest: ${summary.largestFunction?.name}, ${summary.largestFunction?.lines})`,
  );
} else {
  console.log(`| file | lines |\n| --- | ---: |`);
  for (const r of fileRows.slice(0, top)) console.log(`| ${r.file} | ${r.lines} |`);
  console.log(`\n| function | where | lines |\n| --- | --- | ---: |`);
  for (const r of fnRows.slice(0, top))
    console.log(`| ${r.name} | ${r.file}:${r.line} | ${r.lines} |`);
  console.log(
    `\n${summary.files} files, ${summary.lines} lines; ${summary.functions} functions, ` +
      `${summary.functionsOver100} over 100 lines, ${summary.functionsOver150} over 150, ` +
      `${summary.functionsOver300} over 300`,
  );
}
if (maxFn !== undefined) {
  const bad = fnRows.filter((r) => r.lines > Number(maxFn));
  for (const r of bad) console.error(`${r.file}:${r.line} ${r.name}: ${r.lines} lines`);
  process.exit(bad.length > 0 ? 1 : 0);
}
