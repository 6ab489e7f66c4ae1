// The live ops page: reads /ops/events (one snapshot every 2 s), keeps the last WINDOW_S seconds
// in this tab and draws them. Every value from the server goes in through textContent, never HTML.
'use strict';
(function () {
  const WINDOW_S = 600;
  const RATES = ['published', 'acked', 'dead_lettered', 'refused'];
  const history = { x: [], rates: RATES.map(() => []), streams: new Map() };
  const nodes = new Map(); // node -> {at, totals, rates}: per-node differentiation survives restarts
  const charts = new Map();
  let ratesChart = null;
  let snapshots = 0;

  const $ = (sel) => document.querySelector(sel);
  const fig = (name, value) => {
    document.querySelectorAll('[data-figure="' + name + '"]').forEach((e) => { e.textContent = value; });
  };
  const num = (v) => (v === null || v === undefined ? '–' : String(v));
  const fixed = (v) => (v === null || v === undefined ? '–' : v.toFixed(1));
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const row = (cells) => {
    const tr = document.createElement('tr');
    cells.forEach(([v, cls]) => tr.appendChild(el('td', v, cls)));
    return tr;
  };

  // Rates per second: each node's totals differentiated between its own reports, then summed.
  // A node whose totals went down restarted: its rate restarts from that report.
  function rates(snapshot) {
    const sum = Object.fromEntries(RATES.map((r) => [r, 0]));
    const totals = Object.fromEntries(RATES.map((r) => [r, 0]));
    let known = false;
    const seen = new Set();
    for (const n of snapshot.nodes || []) {
      seen.add(n.node);
      RATES.forEach((r) => { totals[r] += n[r] || 0; });
      const prev = nodes.get(n.node);
      let nodeRates = prev ? prev.rates : null;
      if (prev && n.at_ms > prev.at) {
        const dt = (n.at_ms - prev.at) / 1000;
        const restarted = RATES.some((r) => (n[r] || 0) < (prev.totals[r] || 0));
        nodeRates = restarted ? null : Object.fromEntries(RATES.map((r) => [r, ((n[r] || 0) - (prev.totals[r] || 0)) / dt]));
      }
      if (!prev || n.at_ms > prev.at) {
        nodes.set(n.node, { at: n.at_ms, totals: Object.fromEntries(RATES.map((r) => [r, n[r] || 0])), rates: nodeRates });
      }
      if (nodeRates) {
        known = true;
        RATES.forEach((r) => { sum[r] += nodeRates[r]; });
      }
    }
    for (const k of [...nodes.keys()]) if (!seen.has(k)) nodes.delete(k);
    return { totals, rates: known ? sum : null, count: seen.size };
  }

  function chart(target, title, series, width) {
    const opts = {
      title, width, height: 200,
      scales: { x: { time: true } },
      series: [{}].concat(series.map(([label, stroke]) => ({ label, stroke, width: 1.5, spanGaps: false }))),
      axes: [{}, { size: 60 }],
    };
    return new uPlot(opts, [[]].concat(series.map(() => [])), target);
  }

  function trim() {
    const cut = history.x[history.x.length - 1] - WINDOW_S;
    while (history.x.length && history.x[0] < cut) {
      history.x.shift();
      history.rates.forEach((a) => a.shift());
      history.streams.forEach((s) => { s.length.shift(); s.lag.shift(); s.pending.shift(); });
    }
  }

  function onSnapshot(s) {
    snapshots++;
    const t = s.now_ms / 1000;
    const r = rates(s);
    history.x.push(t);
    RATES.forEach((name, i) => history.rates[i].push(r.rates ? r.rates[name] : null));
    // with partitions (P > 1) one chart per logical stream (its totals), plus the unpartitioned streams;
    // the tables below keep one row per partition
    const charted = (s.totals && s.totals.length)
      ? s.totals.concat(s.streams.filter((x) => x.partition === null || x.partition === undefined))
      : s.streams;
    const names = new Set();
    for (const st of charted) {
      names.add(st.name);
      let h = history.streams.get(st.name);
      if (!h) {
        // a stream that appears later has no points before it: pad so its arrays line up with x
        const pad = history.x.length - 1;
        h = { length: Array(pad).fill(null), lag: Array(pad).fill(null), pending: Array(pad).fill(null) };
        history.streams.set(st.name, h);
      }
      const groups = st.groups || [];
      const lags = groups.filter((g) => g.lag_known).map((g) => g.lag);
      h.length.push(st.length);
      h.lag.push(lags.length ? Math.max(...lags) : null);
      h.pending.push(groups.reduce((a, g) => a + g.pending, 0));
    }
    history.streams.forEach((h, name) => {
      if (!names.has(name)) { h.length.push(null); h.lag.push(null); h.pending.push(null); }
    });
    trim();

    if (!ratesChart) {
      ratesChart = chart($('#rates-chart'), 'messages per second',
        [['published', '#1f77b4'], ['acknowledged', '#2ca02c'], ['dead-lettered', '#d62728'], ['refused', '#ff7f0e']],
        Math.max(400, $('#rates-chart').clientWidth - 10));
    }
    ratesChart.setData([history.x.slice()].concat(history.rates.map((a) => a.slice())));
    history.streams.forEach((h, name) => {
      let c = charts.get(name);
      if (!c) {
        const box = el('div');
        box.dataset.stream = name;
        $('#stream-charts').appendChild(box);
        // the grid cell's own width, so charts never overlap their neighbours
        c = chart(box, name, [['length', '#1f77b4'], ['lag', '#9467bd'], ['pending', '#ff7f0e']], Math.max(300, box.clientWidth - 10));
        charts.set(name, c);
      }
      c.setData([history.x.slice(), h.length.slice(), h.lag.slice(), h.pending.slice()]);
    });

    fig('node', s.node);
    fig('taken_at', s.taken_at);
    fig('snapshots', snapshots);
    RATES.forEach((name) => {
      fig(name, r.totals[name]);
      fig('rate_' + name, r.rates ? fixed(r.rates[name]) : '–');
    });
    fig('nodes', r.count);
    const inbound = charted.find((x) => x.kind === 'inbound');
    fig('inbound_length', inbound ? inbound.length : '–');
    // the newest entry of the inbound stream, over every partition
    const newest = s.streams.filter((x) => x.kind === 'inbound' && x.last_id)
      .map((x) => x.last_id.split('-').map(Number))
      .reduce((a, b) => (!a || b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a), null);
    fig('inbound_last_id', newest ? num(newest.join('-')) : '–');
    fig('dlq_depth', s.dlq.depth);

    const badges = $('#badges');
    badges.replaceChildren();
    s.streams.filter((x) => x.headroom_badge).forEach((x) => {
      const b = el('span', x.name + ': ' + x.headroom_badge + ' (' + x.headroom + ' of ' + x.cap + ' left)', 'badge ' + x.headroom_badge);
      b.dataset.badge = x.headroom_badge;
      badges.appendChild(b);
    });

    const breakers = $('#breakers');
    breakers.replaceChildren();
    if (!s.circuit_breakers.length) breakers.textContent = 'none on this node';
    s.circuit_breakers.forEach((b) => breakers.appendChild(el('span', b.name + ': ' + b.state + ' ', 'breaker ' + b.state)));

    const consumers = $('#consumers tbody');
    const groups = $('#groups tbody');
    consumers.replaceChildren();
    groups.replaceChildren();
    for (const st of s.streams) {
      for (const g of st.groups || []) {
        groups.appendChild(row([[st.name], [g.name], [g.role], [g.pending, 'num'],
          [g.lag_known ? g.lag : 'unknown', 'num'],
          [g.oldest_pending_seconds === null ? '–' : g.oldest_pending_seconds.toFixed(1) + ' s', 'num']]));
        for (const c of g.consumers) {
          consumers.appendChild(row([[st.name], [g.name], [g.role], [c.name], [c.pending, 'num'],
            [(c.idle_ms / 1000).toFixed(1) + ' s', 'num'], [c.alive ? 'yes' : 'no']]));
        }
      }
    }
    const dlq = $('#dlq tbody');
    dlq.replaceChildren();
    if (!s.dlq.latest.length) dlq.appendChild(row([['no dead letters']]));
    s.dlq.latest.forEach((d) => dlq.appendChild(row([[d.id], [d.original_stream], [d.error], [d.age_seconds.toFixed(0) + ' s', 'num']])));
  }

  function connect() {
    const es = new EventSource('/ops/events');
    es.addEventListener('snapshot', (e) => {
      $('#status').textContent = 'live';
      $('#status').className = 'status live';
      onSnapshot(JSON.parse(e.data));
    });
    es.addEventListener('failure', (e) => {
      $('#status').textContent = JSON.parse(e.data).error.message;
      $('#status').className = 'status down';
    });
    es.onerror = () => {
      $('#status').textContent = 'disconnected, retrying…';
      $('#status').className = 'status down';
      // a 401 (session expired, node restarted) closes the stream for good: back to the login form
      if (es.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 3000);
    };
  }

  connect();
})();
