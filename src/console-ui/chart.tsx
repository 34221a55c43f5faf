/** A small SVG bar chart: one series of numbers over time buckets, no chart library needed. */
export interface ChartProps {
  title: string;
  labels: string[];
  values: (number | null)[];
  unit?: string;
}

export function Chart({ title, labels, values, unit }: ChartProps) {
  const width = 300;
  const height = 110;
  const pad = { top: 8, bottom: 18, left: 4, right: 4 };
  const max = Math.max(1, ...values.map((v) => v ?? 0));
  const n = Math.max(1, values.length);
  const slot = (width - pad.left - pad.right) / n;
  const plotH = height - pad.top - pad.bottom;
  const total = values.reduce<number>((a, v) => a + (v ?? 0), 0);
  const latest = [...values].reverse().find((v) => v !== null);
  const summary =
    unit === 'ms'
      ? `max ${Math.round(Math.max(0, ...values.map((v) => v ?? 0)))} ms`
      : `total ${total}`;
  return (
    <figure class="chart" data-chart={title}>
      <figcaption>
        {title} <span class="muted">{summary}</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${summary}`}>
        <line
          x1={pad.left}
          x2={width - pad.right}
          y1={height - pad.bottom}
          y2={height - pad.bottom}
          class="axis"
        />
        {values.map((v, i) => {
          const h = v === null ? 0 : Math.max(v > 0 ? 1 : 0, (v / max) * plotH);
          return (
            <rect
              key={i}
              class="bar"
              x={pad.left + i * slot + 1}
              y={height - pad.bottom - h}
              width={Math.max(1, slot - 2)}
              height={h}
            >
              <title>{`${labels[i]}: ${v === null ? 'no data' : v}${unit ? ` ${unit}` : ''}`}</title>
            </rect>
          );
        })}
        <text x={pad.left} y={height - 4} class="tick">
          {labels[0]}
        </text>
        <text x={width - pad.right} y={height - 4} class="tick" text-anchor="end">
          {labels[labels.length - 1]}
        </text>
        <text x={width - pad.right} y={pad.top + 8} class="tick" text-anchor="end">
          {latest === undefined || total === 0 ? '' : `${Math.round(max)}${unit ? ` ${unit}` : ''}`}
        </text>
      </svg>
    </figure>
  );
}
