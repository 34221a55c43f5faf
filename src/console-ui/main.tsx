/** The web console's entry point (docs/console.md): sign-in, navigation, and the hash router. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, isReadOnly, signIn, signOut, whenSignedOut } from './api';
import { FunctionPage } from './function-page';
import { useHashRoute } from './hooks';
import { PlatformPage } from './platform';
import { ServicesPage, StagePage } from './services';
import { TaskPage, TasksPage } from './tasks';

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [withKey, setWithKey] = useState(false);
  const [token, setToken] = useState('');
  const [keyId, setKeyId] = useState('');
  const [error, setError] = useState('');
  const field = (
    label: string,
    name: string,
    value: string,
    set: (v: string) => void,
    secret: boolean,
  ) => (
    <label>
      {label}
      <input
        type={secret ? 'password' : 'text'}
        name={name}
        autocomplete={secret ? 'current-password' : 'username'}
        required
        value={value}
        onInput={(e) => set((e.target as HTMLInputElement).value)}
      />
    </label>
  );
  return (
    <main id="main" class="signin">
      <h1>Nimbus console</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError('');
          const refused = await signIn(
            withKey ? { accessKeyId: keyId, secretAccessKey: token } : { token },
          );
          if (refused === undefined) {
            setToken('');
            onSignedIn();
          } else setError(refused);
        }}
      >
        <fieldset class="row">
          <legend>Sign in with</legend>
          <label>
            <input type="radio" name="with" checked={!withKey} onChange={() => setWithKey(false)} />{' '}
            token
          </label>
          <label>
            <input type="radio" name="with" checked={withKey} onChange={() => setWithKey(true)} />{' '}
            read-only access key
          </label>
        </fieldset>
        {withKey && field('Access key id', 'accessKeyId', keyId, setKeyId, false)}
        {field(withKey ? 'Secret access key' : 'Admin token', 'token', token, setToken, true)}
        <button type="submit" class="primary">
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="muted">
          The admin token is printed by <code>nimbus server</code> and kept in the data directory's
          admin-token file; a read-only key comes from <code>nimbus keys create --read-only</code>.
          Either is exchanged for a session cookie; the browser never keeps it.
        </p>
      </form>
    </main>
  );
}

function Page({ route }: { route: string[] }) {
  const [area, a, b] = route;
  if (area === 'services' && a && b) return <StagePage service={a} stage={b} />;
  if (area === 'functions' && a) return <FunctionPage name={a} />;
  if (area === 'tasks' && a) return <TaskPage id={a} />;
  if (area === 'tasks') return <TasksPage />;
  if (area === 'platform') return <PlatformPage />;
  return <ServicesPage />;
}

function App() {
  const [signedIn, setSignedIn] = useState<boolean | undefined>(undefined);
  const route = useHashRoute();
  useEffect(() => {
    whenSignedOut(() => setSignedIn(false));
    currentSession().then(setSignedIn, () => setSignedIn(false));
  }, []);
  if (signedIn === undefined) return <p class="muted">Loading…</p>;
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const area = route[0] ?? '';
  const link = (to: string, label: string, match: string[]) => (
    <a href={to} aria-current={match.includes(area) ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header>
        <strong class="brand">Nimbus</strong>
        {isReadOnly() && <span class="badge">read-only</span>}
        <nav aria-label="main">
          {link('#/', 'Services', ['', 'services', 'functions'])}
          {link('#/tasks', 'Async tasks', ['tasks'])}
          {link('#/platform', 'Platform', ['platform'])}
        </nav>
        <button
          type="button"
          class="signout"
          onClick={async () => {
            await signOut();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
