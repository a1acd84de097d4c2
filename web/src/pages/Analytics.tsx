// /analytics: the analysts' series as charts (recharts), for role `analyst` at AAL2. Loaded on demand (React.lazy), so
// the charting library is not part of the app's initial JavaScript. Every chart has its numbers in a table beside it.
import { useAuth } from '@tessera/react';
import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import {
  Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from 'recharts';
import { Card, ErrorMessage } from '../ui';

type Bucket = 'HOUR' | 'DAY' | 'WEEK';
type Analytics = Extract<Awaited<ReturnType<ReturnType<typeof useAuth>['sessionAnalytics']>>, { ok: true }>;
type Point = Analytics['series'][number];

const methodLabels: Record<string, string> = {
  password: 'Password', 'password+totp': 'Password + app', 'password+recovery_code': 'Password + recovery code',
  'password+webauthn': 'Password + security key', passkey: 'Passkey', trusted_device: 'Trusted device', email_code: 'Email code',
};
// Distinguishable for the common colour-vision deficiencies (Okabe–Ito), each at least 3:1 against white.
const palette = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#8a6d00', '#56b4e9', '#6b6b6b'];
const axis = { stroke: '#5a6172', fontSize: 12 };

const isoDate = (d: Date): string => d.toISOString().slice(0, 10);

function label(start: string, bucket: Bucket, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions = bucket === 'HOUR'
    ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone }
    : { month: 'short', day: 'numeric', timeZone };
  return new Intl.DateTimeFormat(undefined, options).format(new Date(start));
}

export function AnalyticsPage() {
  const { sessionAnalytics } = useAuth();
  const today = new Date();
  const [from, setFrom] = useState(isoDate(new Date(today.getTime() - 29 * 86400_000)));
  const [to, setTo] = useState(isoDate(today));
  const [bucket, setBucket] = useState<Bucket>('DAY');
  const [timeZone, setTimeZone] = useState('UTC');
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<Parameters<typeof ErrorMessage>[0]['error']>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (range: { from: string; to: string; bucket: Bucket; timeZone: string }) => {
    setBusy(true);
    setError(null);
    // The range is whole days: from the first day's start to the end of the last one.
    const end = new Date(`${range.to}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 1);
    const result = await sessionAnalytics({ from: `${range.from}T00:00:00Z`, to: end.toISOString(), bucket: range.bucket, timeZone: range.timeZone });
    setBusy(false);
    if (result.ok) setData(result);
    else setError(result.error);
  }, [sessionAnalytics]);

  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => { void load({ from, to, bucket, timeZone }); }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void load({ from, to, bucket, timeZone });
  };

  const points = (data?.series ?? []).map((p) => ({
    ...p,
    label: label(p.start, data!.bucket as Bucket, data!.timeZone),
    adoptionPercent: Math.round(p.mfaAdoption * 1000) / 10,
    ...Object.fromEntries(p.loginsByMethod.map((m) => [`m_${m.method}`, m.count])),
  }));
  const methods = (data?.series[0]?.loginsByMethod ?? []).map((m) => m.method)
    .filter((m) => points.some((p) => (p as Record<string, unknown>)[`m_${m}`] !== 0));
  const sum = (f: (p: Point) => number) => (data?.series ?? []).reduce((a, p) => a + f(p), 0);
  const last = data?.series.at(-1);

  return (
    <Card title="Session analytics" lead="Logins, failures, sessions and MFA adoption over time, from the analysis tables.">
      <form className="analytics-form" onSubmit={submit} aria-label="Range">
        <div className="field"><label htmlFor="from">From</label><input id="from" type="date" value={from} max={to} required onChange={(e) => setFrom(e.target.value)} /></div>
        <div className="field"><label htmlFor="to">To</label><input id="to" type="date" value={to} min={from} required onChange={(e) => setTo(e.target.value)} /></div>
        <div className="field">
          <label htmlFor="bucket">Bucket</label>
          <select id="bucket" value={bucket} onChange={(e) => setBucket(e.target.value as Bucket)}>
            <option value="HOUR">Hour</option><option value="DAY">Day</option><option value="WEEK">Week (from Monday)</option>
          </select>
        </div>
        <div className="field"><label htmlFor="tz">Time zone</label><input id="tz" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} placeholder="UTC or Europe/Berlin" /></div>
        <button type="submit" disabled={busy}>{busy ? 'Loading…' : 'Show'}</button>
      </form>
      <ErrorMessage error={error} />
      {data && (
        <>
          <p className="muted lag" role="status" data-testid="lag">
            {data.lag.events === 0 ? 'Up to date with the log.' : `${data.lag.events} events not yet counted (oldest ${Math.round(data.lag.seconds)} s ago).`}
          </p>
          <dl className="tiles" data-testid="totals">
            <div><dt>Logins</dt><dd>{sum((p) => p.logins)}</dd></div>
            <div><dt>Failures</dt><dd>{sum((p) => p.failures)}</dd></div>
            <div><dt>Lockouts</dt><dd>{sum((p) => p.lockouts)}</dd></div>
            <div><dt>Signups</dt><dd>{sum((p) => p.signups)}</dd></div>
            <div><dt>MFA adoption</dt><dd>{last ? `${Math.round(last.mfaAdoption * 100)} %` : '–'}</dd></div>
            <div><dt>Detections</dt><dd>{sum((p) => p.detections)}</dd></div>
          </dl>
          <Chart title="Logins by method" rows={points} columns={methods.map((m) => ({ key: `m_${m}`, name: methodLabels[m] ?? m }))}>
            <BarChart data={points} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" stroke="#d9dce4" />
              <XAxis dataKey="label" tick={axis} /><YAxis allowDecimals={false} tick={axis} />
              <Tooltip /><Legend />
              {methods.map((m, i) => <Bar key={m} dataKey={`m_${m}`} name={methodLabels[m] ?? m} stackId="logins" fill={palette[i % palette.length]} isAnimationActive={false} />)}
            </BarChart>
          </Chart>
          <Chart title="Failures, back-offs and lockouts" rows={points} columns={[{ key: 'failures', name: 'Failures' }, { key: 'backoffs', name: 'Back-offs' }, { key: 'lockouts', name: 'Lockouts' }, { key: 'recoveryCodesUsed', name: 'Recovery codes used' }]}>
            <LineChart data={points} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" stroke="#d9dce4" />
              <XAxis dataKey="label" tick={axis} /><YAxis allowDecimals={false} tick={axis} />
              <Tooltip /><Legend />
              <Line dataKey="failures" name="Failures" stroke={palette[1]} strokeWidth={2} isAnimationActive={false} />
              <Line dataKey="backoffs" name="Back-offs" stroke={palette[4]} strokeWidth={2} isAnimationActive={false} />
              <Line dataKey="lockouts" name="Lockouts" stroke={palette[3]} strokeWidth={2} isAnimationActive={false} />
              <Line dataKey="recoveryCodesUsed" name="Recovery codes used" stroke={palette[0]} strokeWidth={2} isAnimationActive={false} />
            </LineChart>
          </Chart>
          <Chart title="Active sessions and users" rows={points} columns={[{ key: 'activeSessions', name: 'Sessions' }, { key: 'activeUsers', name: 'Users' }, { key: 'newDeviceLogins', name: 'New-device logins' }]}>
            <LineChart data={points} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" stroke="#d9dce4" />
              <XAxis dataKey="label" tick={axis} /><YAxis allowDecimals={false} tick={axis} />
              <Tooltip /><Legend />
              <Line dataKey="activeSessions" name="Sessions" stroke={palette[0]} strokeWidth={2} isAnimationActive={false} />
              <Line dataKey="activeUsers" name="Users" stroke={palette[2]} strokeWidth={2} isAnimationActive={false} />
              <Line dataKey="newDeviceLogins" name="New-device logins" stroke={palette[1]} strokeWidth={2} isAnimationActive={false} />
            </LineChart>
          </Chart>
          <Chart title="MFA adoption (% of users with a second factor)" rows={points} columns={[{ key: 'adoptionPercent', name: 'Adoption %' }, { key: 'usersWithTotp', name: 'With an app' }, { key: 'usersWithWebAuthn', name: 'With a key' }, { key: 'users', name: 'Users' }]}>
            <LineChart data={points} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" stroke="#d9dce4" />
              <XAxis dataKey="label" tick={axis} /><YAxis domain={[0, 100]} unit=" %" tick={axis} />
              <Tooltip /><Legend />
              <Line dataKey="adoptionPercent" name="Adoption %" stroke={palette[2]} strokeWidth={2} isAnimationActive={false} />
            </LineChart>
          </Chart>
          <Chart title="Enrolment: signups and first factors" rows={points} columns={[{ key: 'signups', name: 'Signups' }, { key: 'firstFactors', name: 'First factor enrolled' }, { key: 'averageSecondsToEnrol', name: 'Average seconds to enrol' }]}>
            <BarChart data={points} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" stroke="#d9dce4" />
              <XAxis dataKey="label" tick={axis} /><YAxis allowDecimals={false} tick={axis} />
              <Tooltip /><Legend />
              <Bar dataKey="signups" name="Signups" fill={palette[0]} isAnimationActive={false} />
              <Bar dataKey="firstFactors" name="First factor enrolled" fill={palette[2]} isAnimationActive={false} />
            </BarChart>
          </Chart>
        </>
      )}
    </Card>
  );
}

/** A chart with its title, and the same numbers as a table for screen readers and for copying. */
function Chart(props: { title: string; rows: Array<Record<string, unknown>>; columns: Array<{ key: string; name: string }>; children: ReactNode }) {
  const id = useId();
  return (
    <figure className="chart" aria-labelledby={id}>
      <figcaption id={id}><h2>{props.title}</h2></figcaption>
      {/* The drawing is for the eye; the table below holds the same numbers for everyone (keyboard layer off, so
          nothing hidden can take the focus). */}
      <div className="chart-area" aria-hidden="true">
        <ResponsiveContainer width="100%" height={240}>{props.children as never}</ResponsiveContainer>
      </div>
      <details>
        <summary>Show the numbers</summary>
        <div className="table-scroll">
          <table>
            <thead><tr><th scope="col">Bucket</th>{props.columns.map((c) => <th key={c.key} scope="col">{c.name}</th>)}</tr></thead>
            <tbody>
              {props.rows.map((row) => (
                <tr key={String(row.start)}>
                  <th scope="row">{String(row.label)}</th>
                  {props.columns.map((c) => <td key={c.key}>{row[c.key] === null || row[c.key] === undefined ? '–' : String(row[c.key])}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
