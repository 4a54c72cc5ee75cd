// The layering of docs/ARCHITECTURE.md, checked on every `npm test`
// (`pnpm deps`): no import cycle, and packages import only downward:
//
//   merkle → protocol → consensus, gossip, api → wallet-client, node → testnet, explorer
//
// (an arrow reads "is imported by"). Workspace packages resolve through
// their `exports` to `packages/<name>/dist`, so a rule on the target path
// `^packages/<name>/` covers both a package import and a relative reach into
// another package's sources. swc parses the TypeScript: TypeScript 7 has no
// JavaScript compiler API for dependency-cruiser to use. dependency-cruiser
// asks swc for TypeScript without JSX, so the explorer's .tsx modules are
// checked as tsc compiles them, one to one, in packages/explorer/dist/lib
// (`pnpm deps` runs after the build).

/** Packages each package may import, besides itself. */
const allowed = {
  merkle: [],
  protocol: ['merkle'],
  consensus: ['merkle', 'protocol'],
  gossip: ['merkle', 'protocol'],
  api: ['merkle', 'protocol'],
  'wallet-client': ['merkle', 'protocol', 'api'],
  node: ['merkle', 'protocol', 'consensus', 'gossip', 'api'],
  explorer: ['merkle', 'protocol', 'consensus', 'api', 'wallet-client'],
};
const all = [...Object.keys(allowed), 'test-utils'];

const forbiddenFor = (pkg, deps) => all.filter((p) => p !== pkg && !deps.includes(p));

const layerRules = Object.entries(allowed).map(([pkg, deps]) => ({
  name: `layer-${pkg}`,
  comment: `${pkg} may import only ${deps.length > 0 ? deps.join(', ') : 'no workspace package'}`,
  severity: 'error',
  from: { path: `^packages/${pkg}/(src|cli|dist/lib)/` },
  // The resolved path, or the bare name when the package does not even
  // declare the dependency (then it does not resolve).
  to: { path: `^(packages|@pos)/(${forbiddenFor(pkg, deps).join('|')})(/|$)` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: split the module or move the shared part down a layer',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'testnet-not-test-utils',
      comment: 'testnet/src is shipped code: the test helpers are for tests only',
      severity: 'error',
      from: { path: '^testnet/src/' },
      to: { path: '^(packages|@pos)/test-utils(/|$)' },
    },
    {
      name: 'src-not-tests',
      comment: 'shipped code never imports a test or a bench',
      severity: 'error',
      from: { path: '^(packages/[^/]+|testnet)/(src|cli)/' },
      to: { path: '^(packages/[^/]+|testnet)/(test|bench)/' },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    // Built code is not followed, but for the explorer's compiled modules.
    doNotFollow: {
      path: ['node_modules', '^(?!packages/explorer/dist/lib/)(packages/[^/]+|testnet)/dist/'],
    },
    exclude: { path: ['\\.d\\.ts$', '\\.tsx$', '\\.map$'] },
    moduleSystems: ['es6'],
  },
};
