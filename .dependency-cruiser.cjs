/**
 * The module layers of lib/ (see README "Architecture"), checked by `npm run lint`.
 * A module may import the kernel, the modules listed before it, and nothing after it; other modules are
 * reached only through their `index.ts`. `npm run lint:deps` prints the violations.
 */
/** Lowest first. */
const LAYERS = [
  'kernel',
  'message',
  'auth',
  'scan',
  'store',
  'outbound',
  'actions',
  'routing',
  'submission',
  'config',
  'tls',
  'pipeline',
  'smtp',
  'aws',
  'dev',
  'testing',
  'cli',
];

const layerRules = LAYERS.slice(0, -1).map((module, i) => ({
  name: `layer-${module}`,
  comment: `lib/${module} sits below ${LAYERS.slice(i + 1).join(', ')} and may not import them`,
  severity: 'error',
  from: { path: `^lib/${module}/` },
  to: { path: `^lib/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'files import each other in a circle (a lazy `import()` back, as the CLI commands do, is no cycle at load)',
      severity: 'error',
      from: { path: '^(lib|functions|cdk)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['dynamic-import'] } },
    },
    ...layerRules,
    {
      name: 'kernel-imports-nothing',
      comment: 'lib/kernel is the shared vocabulary: it imports no other module of lib/',
      severity: 'error',
      from: { path: '^lib/kernel/' },
      to: { path: '^lib/', pathNot: '^lib/kernel/' },
    },
    {
      name: 'through-index',
      comment: 'another module is imported through its index.ts (its public API), never a file inside it',
      severity: 'error',
      from: { path: '^lib/([^/]+)/' },
      // A lazy `import()` of one file (kept out of a cold start or a CLI command's load) may go past the index.
      to: {
        path: '^lib/[^/]+/',
        pathNot: ['^lib/$1/', '^lib/[^/]+/index\\.ts$'],
        dependencyTypesNot: ['dynamic-import'],
      },
    },
    {
      name: 'lib-not-cdk',
      comment: 'nothing under lib/ or functions/ imports the CDK constructs',
      severity: 'error',
      from: { path: '^(lib|functions)/' },
      to: { path: '^(cdk/|node_modules/(aws-cdk-lib|constructs|cdk-nag)/)' },
    },
    {
      name: 'aws-sdk-only-in-lib-aws',
      comment: 'the AWS SDK is imported only by the adapters in lib/aws (and the Lambda entry in functions/)',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/aws/' },
      to: { path: '^node_modules/@aws-sdk/' },
    },
    {
      name: 'no-test-code',
      comment: 'shipped code never imports tests or their support files',
      severity: 'error',
      from: { path: '^(lib|functions|cdk)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
