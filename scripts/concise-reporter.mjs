// A test reporter for people: a dot per passing test, an X per failure, then each failure in
// full (name, file, error) and the runner's own summary lines (`# tests N`, `# pass N`,
// `# fail N`, ...) as the TAP reporter ends with, so CI logs and scripts still find them.
// Test output on stdout/stderr is left out: a failure's error says what went wrong.
import { inspect } from 'node:util';

const width = 80;

export default async function* conciseReporter(source) {
  const failures = [];
  const summary = [];
  let column = 0;
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:pass' || type === 'test:fail') {
      const error = data.details?.error;
      // A suite counts only when it fails on its own (a before hook, say).
      if (data.details?.type === 'suite' && type === 'test:pass') continue;
      // A parent whose subtests failed adds nothing: the subtests are reported themselves.
      if (type === 'test:fail' && error?.failureType === 'subtestsFailed') continue;
      if (type === 'test:fail') failures.push(data);
      yield type === 'test:pass' ? '.' : 'X';
      column++;
      if (column === width) {
        yield '\n';
        column = 0;
      }
    } else if (type === 'test:diagnostic' && data.nesting === 0) {
      summary.push(`# ${data.message}`);
    }
  }
  yield '\n';
  for (const failure of failures) {
    const error = failure.details?.error;
    const where = failure.file ? ` (${failure.file}:${failure.line}:${failure.column})` : '';
    yield `\n✖ ${failure.name}${where}\n`;
    const shown = inspect(error?.cause ?? error, { depth: 4 })
      .split('\n')
      .filter((line) => !/^\s+at .*(node:internal|node:async_hooks)/.test(line));
    yield `${shown.map((line) => `  ${line}`).join('\n')}\n`;
  }
  if (failures.length > 0) yield '\n';
  yield `${summary.join('\n')}\n`;
}
