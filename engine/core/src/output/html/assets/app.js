// mite-engine's report pages: draws the page data (result files plus their distributions) with
// uPlot. One script for the run report, the comparison and merge pages and the live dashboard.
(function () {
  'use strict';
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf',
    '#7f7f7f', '#bcbd22', '#393b79', '#ad494a'];
  var SPECTRUM_SERIES_MAX = 24;
  var status = window.miteStatus || { errors: [] };
  var charts = [];
  var selected = {};

  // ---- small helpers ----
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'cls') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function num(v) { return typeof v === 'number' && isFinite(v); }
  function grouped(v) { return num(v) ? Math.round(v).toLocaleString('en-US') : '-'; }
  function fixed(v, digits) { return num(v) ? v.toFixed(digits) : '-'; }
  // A rate per second as the terminal's tables show it: grouped and whole from 10/s, one decimal below.
  function perSecond(v) { return num(v) ? (v < 10 ? v.toFixed(1) : grouped(v)) : '-'; }
  function ms(v) {
    if (!num(v)) return '-';
    if (v < 10) return v.toFixed(2) + ' ms';
    if (v < 100) return v.toFixed(1) + ' ms';
    return Math.round(v).toLocaleString('en-US') + ' ms';
  }
  function usToMs(v) { return num(v) ? v / 1000 : null; }
  // Binary units (1 KiB = 1,024 bytes), as the terminal's.
  var BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  // The unit a number of bytes reads in: the largest it reaches one of.
  function byteUnit(v) {
    var i = 0;
    while (i < BYTE_UNITS.length - 1 && Math.abs(v) >= Math.pow(1024, i + 1)) i++;
    return i;
  }
  function bytes(v) {
    if (!num(v)) return '-';
    var i = byteUnit(v);
    return (i === 0 ? v.toFixed(0) : (v / Math.pow(1024, i)).toFixed(1)) + ' ' + BYTE_UNITS[i];
  }
  function seconds(v) {
    if (!num(v)) return '-';
    if (v < 120) return (Math.round(v * 10) / 10) + 's';
    var m = Math.floor(v / 60);
    return m + 'm' + Math.round(v - m * 60) + 's';
  }
  function percentLabel(nines) {
    var p = 100 * (1 - Math.pow(10, -nines));
    if (p <= 0) return '0%';
    var digits = Math.max(0, Math.ceil(nines - 1e-9) - 2);
    return p.toFixed(digits) + '%';
  }
  function kv(obj) {
    var keys = Object.keys(obj || {});
    return keys.length ? keys.map(function (k) { return k + ' ' + grouped(obj[k]); }).join(', ') : '-';
  }
  function sum(values) { return values.reduce(function (a, b) { return a + (num(b) ? b : 0); }, 0); }
  // The smallest step `format` tells from 0 (1 for whole numbers, 0.01 for ms): an axis never
  // steps finer, so no two of its labels read the same (0, 0, 1, 1 on a chart of 1 journey).
  function resolution(format) {
    var steps = [0.001, 0.01, 0.1, 1];
    for (var i = 0; i < steps.length; i++) { if (format(steps[i]) !== format(0)) return steps[i]; }
    return 1;
  }
  function increments(least) {
    var out = [];
    for (var e = -3; e <= 15; e++) {
      [1, 2, 5].forEach(function (m) { var v = m * Math.pow(10, e); if (v >= least * (1 - 1e-9)) out.push(v); });
    }
    return out;
  }
  // An axis of bytes reads in one binary unit, the one its top reaches, ticked every 1, 2 or 5
  // x 10^n of that unit (0, 200, 400 KiB; 0, 0.5, 1.0 MiB), never at 97.7 KiB (a decimal step
  // of bytes shown in KiB). `least`: the smallest step in bytes that leaves the ticks room.
  function byteAxis() {
    var shown = { unit: 0, digits: 0 };
    return {
      splits: function (u, axis, lo, hi, least) {
        shown.unit = byteUnit(Math.max(Math.abs(lo), Math.abs(hi)));
        var size = Math.pow(1024, shown.unit);
        var step = increments(least / size)[0] || 1;
        shown.digits = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
        var out = [];
        for (var k = Math.ceil(lo / (step * size) - 1e-9); k * step * size <= hi * (1 + 1e-9); k++) out.push(k * step * size);
        return out;
      },
      format: function (v) {
        return v === 0 ? '0' : (v / Math.pow(1024, shown.unit)).toFixed(shown.digits) + ' ' + BYTE_UNITS[shown.unit];
      }
    };
  }
  // uPlot's axis font, to measure its labels with.
  var AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
  var LABEL_GAP_PX = 12;
  var measurer = null;
  function textWidth(text) {
    if (!measurer) {
      measurer = document.createElement('canvas').getContext('2d');
      measurer.font = AXIS_FONT;
    }
    return measurer.measureText(text).width;
  }
  // Room right of a chart's plot, for half its last x label (`99.9999%` was cut in half).
  var RIGHT_PAD_PX = 32;
  // An x axis's labels, thinned so that none overlaps another at the chart's width: a label is
  // shown when it clears the last one shown by LABEL_GAP_PX and lies within the chart, the
  // others read '' (their ticks stay). From the right end on the percentile axis (its high
  // nines matter most: 0% goes before 50%), from the left elsewhere. What is shown, and where
  // (px from the chart's left edge), goes to the page's status.
  function thinned(u, vals, texts, fromEnd, record) {
    var order = vals.map(function (v, i) { return i; });
    if (fromEnd) order.reverse();
    var out = texts.map(function () { return ''; });
    var kept = [];
    var last = null;
    var plotLeft = u.bbox.left / (uPlot.pxRatio || 1);
    record.width = u.width;
    order.forEach(function (i) {
      if (vals[i] == null || !texts[i]) return;
      var at = plotLeft + u.valToPos(vals[i], 'x');
      var half = textWidth(texts[i]) / 2;
      var box = { text: texts[i], left: at - half, right: at + half };
      if (box.left < 0 || box.right > u.width) return;
      if (last && (fromEnd ? box.right + LABEL_GAP_PX > last.left : box.left < last.right + LABEL_GAP_PX)) return;
      out[i] = texts[i];
      kept.push(box);
      last = box;
    });
    record.xTicks = kept.sort(function (a, b) { return a.left - b.left; });
    publishSoon();
    return out;
  }
  // A legend label at most LABEL_CHARS_MAX characters: a longer name loses its middle, as in
  // the terminal's table (names differ at their ends); the tables show it whole.
  var LABEL_CHARS_MAX = 60;
  function shortLabel(text) {
    var chars = Array.from(String(text));
    if (chars.length <= LABEL_CHARS_MAX) return String(text);
    var head = Math.floor((LABEL_CHARS_MAX - 1) / 2);
    return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - (LABEL_CHARS_MAX - 1 - head)).join('');
  }
  function fail(message) {
    status.errors.push(message);
    showErrors();
  }
  function showErrors() {
    if (!status.errors.length) return;
    var box = document.getElementById('errors');
    box.hidden = false;
    box.textContent = 'The report could not draw everything:\n' + status.errors.join('\n');
    publishStatus();
  }
  // Axes are drawn after the page's script has run: what they show is published once drawn.
  var publishing = false;
  function publishSoon() {
    if (publishing) return;
    publishing = true;
    setTimeout(function () { publishing = false; publishStatus(); }, 0);
  }
  function publishStatus() {
    var resources = (performance.getEntriesByType ? performance.getEntriesByType('resource') : [])
      .map(function (r) { return r.name; });
    document.getElementById('mite-status').textContent = JSON.stringify({
      charts: status.charts, errors: status.errors, resources: resources, updates: status.updates || 0,
      finished: status.finished || false, tables: tableWidths()
    });
  }

  // Each table's width against the room its box gives it (wider: it scrolls sideways).
  function tableWidths() {
    return Array.prototype.map.call(document.querySelectorAll('div.scroll'), function (box) {
      var t = box.querySelector('table');
      // The text its first rows show (what a window this wide hides is not in it; a row not
      // drawn at all shows nothing).
      var shown = t ? Array.prototype.slice.call(t.rows, 0, 12).map(function (r) { return r.getClientRects().length ? r.innerText : ''; }) : [];
      return { id: (t && t.id) || '', width: box.scrollWidth, room: box.clientWidth, shown: shown };
    });
  }

  // ---- charts ----
  // spec: {id, title, hint, x, xLabel, xFormat, yLabel, yFormat, series: [{label, values, color, dash}],
  //        bars, xLog, xSplits, select: {options, value, onChange}}
  function chart(parent, spec) {
    var box = el('div', { cls: 'chart', id: 'chart-' + spec.id });
    var title = el('h3', { text: spec.title });
    if (spec.select) {
      var select = el('select', { 'aria-label': 'choose what to draw' });
      spec.select.options.forEach(function (o) {
        var option = el('option', { value: o, text: o });
        if (o === spec.select.value) option.selected = true;
        select.appendChild(option);
      });
      select.addEventListener('change', function () { spec.select.onChange(select.value); });
      title.appendChild(select);
    }
    box.appendChild(title);
    if (spec.hint) box.appendChild(el('p', { cls: 'hint', text: spec.hint }));
    parent.appendChild(box);
    var series = spec.series.filter(function (s) { return s.values.some(num); });
    var points = sum(series.map(function (s) { return s.values.filter(num).length; }));
    // Each series' values added up: what a test compares with the figures the data holds.
    var sums = series.map(function (s) { return sum(s.values); });
    status.charts.push({ id: spec.id, title: spec.title, series: series.length, points: points, sums: sums, drawn: false });
    var record = status.charts[status.charts.length - 1];
    if (!series.length || !spec.x.length) {
      box.appendChild(el('p', { cls: 'note', text: 'no data' }));
      return;
    }
    var width = Math.max(360, Math.min(box.clientWidth || 560, 1400) - 20);
    var yAxis = spec.yBytes ? byteAxis() : null;
    var yFormat = spec.yFormat || function (v) { return v; };
    var yTick = yAxis ? yAxis.format : yFormat;
    var xFormat = spec.xFormat || String;
    // A linear x axis steps no finer than its labels show: a range shorter than two such steps
    // (two runs' one interval each, ending 5 ms apart) widens to the steps around it, or it
    // would have no tick, and no label, at all.
    var xStep = spec.xLog || spec.xSplits ? 0 : resolution(xFormat);
    var xRange = function (u, lo, hi) {
      if (!xStep || hi - lo >= 2 * xStep) return [lo, hi];
      var from = Math.floor(lo / xStep + 1e-9) * xStep;
      return [from, Math.max(Math.ceil(hi / xStep - 1e-9) * xStep, from + xStep)];
    };
    record.labels = series.map(function (s) { return shortLabel(s.label); });
    var opts = {
      width: width,
      height: 250,
      padding: [null, RIGHT_PAD_PX, null, null],
      scales: { x: { time: false, distr: spec.xLog ? 3 : 1, range: spec.xLog ? undefined : xRange }, y: { range: function (u, lo, hi) { return [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1]; } } },
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      series: [{ label: spec.xLabel, value: function (u, v) { return v == null ? '-' : (spec.xFormat || String)(v); } }]
        .concat(series.map(function (s, i) {
          var color = s.color || COLORS[i % COLORS.length];
          var line = {
            label: shortLabel(s.label), stroke: color, width: 1.5, dash: s.dash, spanGaps: !!spec.spanGaps,
            value: function (u, v) { return v == null ? '-' : yFormat(v); }
          };
          if (spec.bars) {
            line.fill = color + '99';
            line.paths = uPlot.paths.bars({ size: [0.9, 60] });
            line.points = { show: false };
          }
          return line;
        })),
      axes: [
        { label: spec.xLabel, font: AXIS_FONT, splits: spec.xSplits, incrs: xStep ? increments(xStep) : undefined,
          values: function (u, vals) {
            return thinned(u, vals, vals.map(function (v) { return v == null ? '' : xFormat(v); }), spec.xSplits === nineSplits, record);
          } },
        { label: spec.yLabel, font: AXIS_FONT, size: 84, incrs: increments(resolution(yFormat)), splits: yAxis ? yAxis.splits : undefined,
          values: function (u, vals) {
            record.yTicks = vals.map(function (v) { return v == null ? '' : yTick(v); });
            publishSoon();
            return record.yTicks;
          } }
      ]
    };
    var data = [spec.x].concat(series.map(function (s) { return s.values.map(function (v) { return num(v) ? v : null; }); }));
    charts.push(new uPlot(opts, data, box));
    record.drawn = !!box.querySelector('canvas');
  }

  // ---- over time ----
  function timeline(run) {
    var iv = run.intervals || [];
    var t = [];
    var dt = [];
    var prev = 0;
    // An interval's rates are over the time its figures cover (`seconds`, as its `rps` is:
    // longer than the gap since the interval before when a core reported late); in files
    // written before it was recorded, over that gap.
    iv.forEach(function (p) {
      t.push(p.elapsed_s);
      dt.push(num(p.seconds) && p.seconds > 0 ? p.seconds : Math.max(p.elapsed_s - prev, 1e-3));
      prev = p.elapsed_s;
    });
    return {
      iv: iv, t: t,
      rate: function (get) { return iv.map(function (p, i) { var v = get(p); return num(v) ? v / dt[i] : null; }); },
      value: function (get) { return iv.map(function (p) { var v = get(p); return num(v) ? v : null; }); }
    };
  }
  // Keys kept in objects without a prototype: a name such as `__proto__` is a name like any other.
  function keysOf(list, field) {
    var seen = Object.create(null);
    list.forEach(function (p) { Object.keys(p[field] || {}).forEach(function (k) { seen[k] = true; }); });
    return Object.keys(seen).sort();
  }
  function txnNames(iv) {
    var seen = Object.create(null);
    iv.forEach(function (p) { (p.by_transaction || []).forEach(function (t) { seen[t.name] = true; }); });
    return Object.keys(seen).sort();
  }
  function txnAt(p, name) {
    var list = p.by_transaction || [];
    for (var i = 0; i < list.length; i++) if (list[i].name === name) return list[i];
    return null;
  }
  var timeAxis = { xLabel: 'elapsed', xFormat: seconds };

  function overTime(parent, run, merged, rerender) {
    var tl = timeline(run);
    if (!tl.iv.length) {
      parent.appendChild(el('p', { cls: 'note', text: merged ? 'a merged result has no common timeline (its parts\' intervals do not line up, as the merge said): see each segment over time below' :
        'no interval completed yet' }));
      return;
    }
    if (run.intervals_left_out > 0) {
      parent.appendChild(el('p', { cls: 'note', text: 'the first ' + grouped(run.intervals_left_out) + ' intervals are left out of the live page (it shows the last ' +
        grouped(tl.iv.length) + ', from ' + seconds(tl.t[0]) + '); the final report has them all' }));
    }
    var grid = el('div', { cls: 'grid' });
    parent.appendChild(grid);
    var kinds = keysOf(tl.iv, 'errors_by_kind');
    var rps = [{ label: 'ok/s', color: '#2ca02c', values: tl.rate(function (p) { return num(p.ok) ? p.ok : Math.max(0, p.requests - p.errors); }) }];
    if (kinds.length) {
      kinds.forEach(function (k, i) {
        rps.push({ label: k + '/s', color: COLORS[(i + 1) % COLORS.length], values: tl.rate(function (p) { return (p.errors_by_kind || {})[k] || 0; }) });
      });
    } else {
      rps.push({ label: 'errors/s', color: '#d62728', values: tl.rate(function (p) { return p.errors; }) });
    }
    chart(grid, Object.assign({ id: 'rps', title: 'Requests per second, ok and errors by kind', yLabel: 'req/s', x: tl.t, series: rps,
      hint: 'drag to zoom, double-click to reset, click a legend entry to hide it', yFormat: grouped }, timeAxis));
    if (merged && !tl.iv.some(allLatency)) {
      grid.appendChild(el('p', { cls: 'note', text: 'Latency over time: a merged timeline adds the parts\' counts, and has no percentiles (a percentile of the parts\' percentiles is none of the whole\'s): see each segment\'s below' }));
    } else {
      latencyOverTime(grid, tl, rerender);
    }
    chart(grid, Object.assign({ id: 'journeys', title: 'Journeys in flight and the volume model\'s target', yLabel: 'journeys', x: tl.t,
      yFormat: grouped, series: [
        { label: 'in flight', values: tl.value(function (p) { return p.journeys_in_flight; }) },
        { label: 'target', color: '#7f7f7f', dash: [6, 4], values: tl.value(function (p) { return p.journeys_target; }) }] }, timeAxis));
    if (tl.iv.some(function (p) { return p.arrivals; })) {
      var arrival = function (field) { return tl.rate(function (p) { return p.arrivals ? p.arrivals[field] : 0; }); };
      var arrivalSeries = [{ label: 'requested', values: arrival('requested') }, { label: 'started', color: '#2ca02c', values: arrival('started') },
        { label: 'missed', color: '#d62728', values: arrival('missed') }];
      if (tl.iv.some(function (p) { return p.arrivals && p.arrivals.datapool_exhausted > 0; })) {
        arrivalSeries.push({ label: 'not started (datapool exhausted)', color: '#7f7f7f', values: arrival('datapool_exhausted') });
      }
      chart(grid, Object.assign({ id: 'arrivals', title: 'Arrivals per second (open model)', yLabel: 'per s', x: tl.t, yFormat: grouped,
        series: arrivalSeries }, timeAxis));
    }
    var connections = [{ label: 'connects/s', values: tl.rate(function (p) { return p.connects; }) },
      { label: 'reconnects/s', values: tl.rate(function (p) { return p.reconnects; }) }];
    if (tl.iv.some(function (p) { return p.connects_failed > 0; })) {
      connections.push({ label: 'failed connects/s', color: '#d62728', values: tl.rate(function (p) { return p.connects_failed; }) });
    }
    chart(grid, Object.assign({ id: 'connections', title: 'Connects tried and reconnects per second', yLabel: 'per s', x: tl.t,
      yFormat: grouped, series: connections }, timeAxis));
    if (tl.iv.some(function (p) { return p.injector_lag_p99_us > 0; })) {
      chart(grid, Object.assign({ id: 'injector-lag', title: 'The injector\'s own event-loop lag (p99)', yLabel: 'ms', x: tl.t,
        yFormat: ms, hint: 'how late the engine ran its own work: large next to the latencies, they are the engine\'s too',
        series: [{ label: 'lag p99', values: tl.value(function (p) { return usToMs(p.injector_lag_p99_us); }) }] }, timeAxis));
      chart(grid, Object.assign({ id: 'injector-cpu', title: 'The busiest injector core\'s CPU', yLabel: '%', x: tl.t,
        yFormat: function (v) { return fixed(v, 0) + '%'; },
        series: [{ label: 'busy', values: tl.value(function (p) { return p.injector_busy_percent_max; }) }] }, timeAxis));
    }
    chart(grid, Object.assign({ id: 'throughput', title: 'Bytes per second: response bodies received, requests sent', yLabel: 'bytes/s', x: tl.t,
      yFormat: bytes, yBytes: true, series: [{ label: 'received/s', values: tl.rate(function (p) { return p.body_bytes; }) },
        { label: 'sent/s', values: tl.rate(function (p) { return p.sent_bytes; }) }] }, timeAxis));
    wsOverTime(grid, run, tl);
  }

  // ---- WebSockets over time ----
  // An interval's WebSocket figures: its `websocket`, or none (it had no WebSocket traffic).
  function wsCount(field) { return function (p) { return p.websocket ? p.websocket[field] : 0; }; }
  function wsReply(p, field) { return p.websocket && p.websocket.reply ? usToMs(p.websocket.reply[field]) : null; }
  function hasWsIntervals(tl) { return tl.iv.some(function (p) { return p.websocket; }); }
  function wsOverTime(grid, run, tl) {
    if (!hasWsIntervals(tl)) {
      if (hasWebSockets(run)) {
        grid.appendChild(el('p', { cls: 'note', text: 'WebSockets over time: this file\'s intervals have no WebSocket figures (written before they were recorded)' }));
      }
      return;
    }
    chart(grid, Object.assign({ id: 'ws-messages', title: 'WebSocket messages per second, sent and received', yLabel: 'msg/s', x: tl.t,
      yFormat: grouped, series: [{ label: 'sent/s', values: tl.rate(wsCount('messages_sent')) },
        { label: 'received/s', color: '#2ca02c', values: tl.rate(wsCount('messages_received')) }] }, timeAxis));
    if (tl.iv.some(function (p) { return p.websocket && p.websocket.reply; })) {
      chart(grid, Object.assign({ id: 'ws-reply', title: 'WebSocket reply times (from sending to the reply)', yLabel: 'ms', x: tl.t, yFormat: ms,
        spanGaps: true, series: [{ label: 'p50', values: tl.value(function (p) { return wsReply(p, 'p50_us'); }) },
          { label: 'p99', color: COLORS[2], values: tl.value(function (p) { return wsReply(p, 'p99_us'); }) }] }, timeAxis));
    }
    chart(grid, Object.assign({ id: 'ws-bytes', title: 'WebSocket payload bytes per second, sent and received', yLabel: 'bytes/s', x: tl.t,
      yFormat: bytes, yBytes: true, series: [{ label: 'sent/s', values: tl.rate(wsCount('bytes_sent')) },
        { label: 'received/s', color: '#2ca02c', values: tl.rate(wsCount('bytes_received')) }] }, timeAxis));
    var events = [{ label: 'connects/s', values: tl.rate(wsCount('connects')) }, { label: 'closes/s', color: '#7f7f7f', values: tl.rate(wsCount('closes')) }];
    if (tl.iv.some(function (p) { return p.websocket && p.websocket.errors > 0; })) {
      events.push({ label: 'errors/s', color: '#d62728', values: tl.rate(wsCount('errors')) });
    }
    chart(grid, Object.assign({ id: 'ws-connections', title: 'WebSocket connects, closes and failures per second', yLabel: 'per s', x: tl.t,
      yFormat: grouped, series: events }, timeAxis));
  }

  // An interval's percentiles over all requests, or null when nothing was timed in it (its
  // p50_us and p99_us are then null; the first format's zeros are read as null before a page
  // gets them): its `latency`, or, in files written before that was, its p50_us and p99_us.
  function allLatency(p) {
    if (p.latency) return p.latency;
    return num(p.p50_us) && num(p.p99_us) ? { p50_us: p.p50_us, p99_us: p.p99_us } : null;
  }
  function latencyOverTime(grid, tl, rerender) {
    var names = ['all requests'].concat(txnNames(tl.iv));
    var name = names.indexOf(selected.latency) >= 0 ? selected.latency : 'all requests';
    // The interval's figures for the chosen name: {latency, corrected} or null.
    var at = name === 'all requests'
      ? function (p) { var l = allLatency(p); return l ? (p.latency ? p : { latency: l }) : null; }
      : function (p) { return txnAt(p, name); };
    var series = [];
    var fields = [['p50', 'p50_us'], ['p90', 'p90_us'], ['p99', 'p99_us'], ['max', 'max_us']];
    fields.forEach(function (f, i) {
      series.push({ label: f[0], color: COLORS[i], values: tl.value(function (p) { var t = at(p); return t && t.latency ? usToMs(t.latency[f[1]]) : null; }) });
    });
    if (tl.iv.some(function (p) { var t = at(p); return t && t.corrected; })) {
      fields.forEach(function (f, i) {
        series.push({ label: f[0] + ' corrected', color: COLORS[i], dash: [5, 3],
          values: tl.value(function (p) { var t = at(p); return t && t.corrected ? usToMs(t.corrected[f[1]]) : null; }) });
      });
    }
    chart(grid, Object.assign({ id: 'latency', title: 'Latency over time', yLabel: 'ms', x: tl.t, yFormat: ms, series: series, spanGaps: true,
      hint: series.length > 4 ? 'dashed: corrected (from the intended start, open model)' : '',
      select: { options: names, value: name, onChange: function (v) { selected.latency = v; rerender(); } } }, timeAxis));
  }

  // ---- distributions ----
  var nineSplits = function (u, axis, lo, hi) {
    var out = [];
    [0, Math.log10(2), 1, 2, 3, 4, 5, 6].forEach(function (v) { if (v >= lo - 1e-9 && v <= hi + 1e-9) out.push(v); });
    return out;
  };
  function spectrumSeries(entries, grid) {
    // entries: [{label, distribution}] -> aligned series on the shared nines grid, trimmed to data.
    var series = [];
    entries.forEach(function (e, i) {
      var d = e.distribution || {};
      var color = COLORS[i % COLORS.length];
      if (d.spectrum) series.push({ label: e.label, color: color, values: d.spectrum });
      if (d.spectrum_corrected) series.push({ label: e.label + ' corrected', color: color, dash: [5, 3], values: d.spectrum_corrected });
    });
    var last = 0;
    series.forEach(function (s) { s.values.forEach(function (v, i) { if (num(v) && i > last) last = i; }); });
    series.forEach(function (s) { s.values = s.values.slice(0, last + 1); });
    return { x: grid.slice(0, last + 1), series: series };
  }
  function spectrumChart(parent, id, title, entries, grid) {
    var s = spectrumSeries(entries.slice(0, SPECTRUM_SERIES_MAX), grid);
    chart(parent, { id: id, title: title, x: s.x, series: s.series, xLabel: 'percentile', xFormat: percentLabel, xSplits: nineSplits,
      yLabel: 'ms', yFormat: ms, hint: 'x: percentile on a log "nines" axis; dashed: corrected' +
        (entries.length > SPECTRUM_SERIES_MAX ? '; first ' + SPECTRUM_SERIES_MAX + ' of ' + entries.length + ' shown' : '') });
  }
  function histogramChart(parent, id, run, rerender) {
    var names = ['all requests'].concat((run.transactions || []).map(function (t) { return t.name; }));
    var name = names.indexOf(selected[id]) >= 0 ? selected[id] : 'all requests';
    var d = name === 'all requests' ? run.distribution : ((run.transactions || []).filter(function (t) { return t.name === name; })[0] || {}).distribution;
    var h = d && d.histogram;
    chart(parent, { id: id, title: 'Latency histogram', x: h ? h.from_ms : [], xLog: true, xLabel: 'latency from (ms)', xFormat: ms,
      yLabel: 'count', yFormat: grouped, bars: true, series: [{ label: 'count', values: h ? h.count : [] }],
      select: { options: names, value: name, onChange: function (v) { selected[id] = v; rerender(); } } });
  }
  function distributions(parent, run, grid, rerender) {
    var box = el('div', { cls: 'grid' });
    parent.appendChild(box);
    var entries = [{ label: 'all requests', distribution: run.distribution }].concat((run.transactions || []).map(function (t) {
      return { label: t.name, distribution: t.distribution };
    }));
    spectrumChart(box, 'spectrum', 'Latency by percentile (HDR spectrum)', entries, grid);
    histogramChart(box, 'histogram', run, rerender);
  }

  // ---- tables ----
  // A table: `head` its column names, `rows` its cells (text, or {text, cls, title}); the
  // first column's names wrap, each whole on hover. `id` names it in the page's status.
  // `minor`: the columns a window narrower than 1,200 px takes out of the row, to show them
  // stacked under it instead (a row of its own, hidden in a wider window): nothing is lost.
  function table(parent, head, rows, id, minor) {
    minor = minor || [];
    var isMinor = function (i) { return minor.indexOf(head[i]) >= 0; };
    var kind = function (i) { return (i ? '' : 'name ') + (isMinor(i) ? 'minor ' : ''); };
    var t = el('table', id ? { id: id } : {}, [el('tr', {}, head.map(function (h, i) { return el('th', { cls: kind(i), text: h }); }))]);
    rows.forEach(function (r) {
      var cells = r.map(function (c) {
        var cell = typeof c === 'object' && c !== null ? c : { text: c };
        return { text: cell.text == null ? '-' : String(cell.text), cls: cell.cls || '', title: cell.title };
      });
      t.appendChild(el('tr', {}, cells.map(function (cell, i) {
        return el('td', { cls: kind(i) + cell.cls, text: cell.text, title: cell.title || (i ? '' : cell.text) });
      })));
      if (minor.length) t.appendChild(stackedRow(head, cells, isMinor));
    });
    parent.appendChild(el('div', { cls: 'scroll' }, [t]));
    if (minor.length) parent.appendChild(el('p', { cls: 'note narrow', text: 'In a window narrower than 1,200 px the columns ' + minor.join(', ') + ' are shown under each row.' }));
  }
  // A row's minor cells, each with its column's name, in one cell as wide as the columns left.
  function stackedRow(head, cells, isMinor) {
    var shown = head.length - head.filter(function (h, i) { return isMinor(i); }).length;
    var parts = [];
    cells.forEach(function (cell, i) {
      if (!isMinor(i)) return;
      // Spaces between them: copied, the figures read apart.
      if (parts.length) parts.push(document.createTextNode(' '));
      parts.push(el('span', {}, [el('b', { text: head[i] }), document.createTextNode(' ' + cell.text)]));
    });
    return el('tr', { cls: 'stacked' }, [el('td', { cls: 'stacked', colspan: String(shown) }, parts)]);
  }
  // A list of counts by name (errors by kind, status codes), free to wrap in its cell.
  function listCell(obj) { return { text: kv(obj), cls: 'list' }; }
  function txnTable(parent, run) {
    var open = (run.transactions || []).some(function (t) { return t.latency_us_corrected; });
    // As the terminal's table: requests sent, those never sent, the failed attempts (sent or
    // not), and the `errors` threshold's share; durations only of completed transactions.
    var head = ['transaction', 'count', 'ok', 'errors', 'rate/s', 'requests', 'not sent', 'req errors', 'error %',
      'errors by kind', 'status', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'];
    if (open) head.push('p99 corrected');
    head.push('bytes received', 'bytes sent');
    table(parent, head, (run.transactions || []).map(function (t) {
      var l = t.count > 0 ? (t.latency_us || {}) : {};
      var r = t.requests || {};
      var row = [t.name, grouped(t.count), grouped(t.ok), grouped(t.errors), perSecond(t.rate), grouped(r.count),
        grouped(r.not_sent || 0), grouped(r.errors), fixed(figures(t, run.duration_s).err, 1),
        { text: errorKinds(r.errors_by_kind, t.websocket) || '-', cls: 'list' }, listCell(r.status_codes || r.status), ms(usToMs(l.p50)), ms(usToMs(l.p90)), ms(usToMs(l.p99)), ms(usToMs(l.p999)),
        ms(usToMs(l.max)), ms(usToMs(l.mean))];
      if (open) row.push(t.latency_us_corrected ? ms(usToMs(t.latency_us_corrected.p99)) : '-');
      row.push(bytes(r.body_bytes), bytes(r.sent_bytes));
      return row;
    }), 'transactions', ['ok', 'status', 'p90', 'mean', 'bytes received', 'bytes sent']);
    // The open model's extra column: set closer, to fit a 1,400 px window as the others do.
    if (open) parent.querySelector('table').className = 'dense';
  }

  // ---- WebSockets ----
  // The transactions that used WebSockets (their `websocket` is null when unused).
  function wsTransactions(run) { return (run.transactions || []).filter(function (t) { return t.websocket; }); }
  function hasWebSockets(run) { return !!((run.totals || {}).websocket || wsTransactions(run).length); }
  function reply(ws, field) { return ws.reply_us && ws.reply_us.count ? ms(usToMs(ws.reply_us[field])) : '-'; }
  // The result file's `websocket` figures of each transaction that used them, and of all of
  // them together when there are several: connections (handshakes completed, closes), data
  // messages and payload bytes each way, pings, errors on open connections by kind, and the
  // times from sending to the matching reply. A refused or failed handshake is a request: the
  // Transactions table counts it.
  function wsTable(parent, run) {
    var rows = wsTransactions(run).map(function (t) { return wsRow(t.name, t.websocket); });
    var total = (run.totals || {}).websocket;
    if (total && rows.length > 1) rows.push(wsRow('all WebSocket transactions', total));
    table(parent, ['transaction', 'connects', 'closes', 'msgs sent', 'msgs received', 'msgs/s (sent + received)', 'bytes sent', 'bytes received',
      'pings received', 'errors', 'errors by kind', 'reply p50', 'reply p99', 'reply max'], rows, 'websocket');
  }
  function wsRow(name, ws) {
    return [name, grouped(ws.connects), grouped(ws.closes), grouped(ws.messages_sent), grouped(ws.messages_received),
      perSecond(ws.messages_per_s), bytes(ws.bytes_sent), bytes(ws.bytes_received), grouped(ws.pings_received),
      { text: grouped(ws.errors), cls: ws.errors ? 'fail' : '' }, listCell(ws.errors_by_kind),
      reply(ws, 'p50'), reply(ws, 'p99'), reply(ws, 'max')];
  }
  // Each run's WebSocket figures side by side (all of them, then each transaction's), with
  // their difference from the first run's: the message rate and the reply times.
  function wsCompareTable(parent, runs, limit, first) {
    var msf = orNoData(function (v) { return ms(usToMs(v)); });
    var rows = [];
    var add = function (name, pick) {
      var base = null;
      runs.forEach(function (run, i) {
        var ws = pick(run);
        if (!ws) { rows.push([name, run.label + (i ? '' : first), { text: 'no WebSockets', cls: i && base ? 'worse' : '' }]); return; }
        var lat = ws.reply_us && ws.reply_us.count ? ws.reply_us : {};
        var b = i > 0 ? base : null;
        if (i === 0) base = { rate: ws.messages_per_s, p50: lat.p50, p99: lat.p99 };
        rows.push([name, run.label + (i ? '' : first), grouped(ws.connects), grouped(ws.messages_sent), grouped(ws.messages_received),
          b ? deltaCell(b.rate, ws.messages_per_s, limit, false, perSecond) : perSecond(ws.messages_per_s),
          bytes(ws.bytes_sent), bytes(ws.bytes_received), { text: grouped(ws.errors), cls: ws.errors ? 'fail' : '' },
          listCell(ws.errors_by_kind),
          b ? deltaCell(b.p50, lat.p50, limit, true, msf) : msf(lat.p50),
          b ? deltaCell(b.p99, lat.p99, limit, true, msf) : msf(lat.p99)]);
      });
    };
    add('all WebSocket transactions', function (run) { return (run.totals || {}).websocket; });
    var names = Object.create(null);
    runs.forEach(function (run) { wsTransactions(run).forEach(function (t) { names[t.name] = true; }); });
    Object.keys(names).sort().forEach(function (name) {
      add(name, function (run) {
        var found = (run.transactions || []).filter(function (t) { return t.name === name; })[0];
        return found && found.websocket;
      });
    });
    table(parent, ['transaction', 'run', 'connects', 'msgs sent', 'msgs received', 'msgs/s (sent + received)', 'bytes sent', 'bytes received', 'errors',
      'errors by kind', 'reply p50', 'reply p99'], rows, 'compare-websocket');
  }

  // ---- summary ----
  // `connects` is a count in older result files, {attempted, failed} in newer ones.
  function connectsText(c) {
    if (c && typeof c === 'object') {
      return 'attempted ' + grouped(c.attempted) + (c.failed ? ', failed ' + grouped(c.failed) : '');
    }
    return 'opened ' + grouped(c);
  }
  function card(k, v, cls) { return el('div', { cls: 'card ' + (cls || '') }, [el('div', { cls: 'k', text: k }), el('div', { cls: 'v', text: v })]); }
  // A run's core ids; a merge's count, and whose each is (its parts may share ids: each
  // injector has its core 0): `2: segment 0/2 on 0; segment 1/2 on 0`.
  function coresText(run) {
    var cores = run.cores || [];
    if (!run.parts) return cores.join(', ');
    var named = run.parts.filter(function (p) { return p.cores; });
    if (named.length < run.parts.length) return grouped(cores.length) + ' in ' + grouped(run.parts.length) + ' results';
    return grouped(cores.length) + ': ' + named.map(function (p) {
      return (p.segment ? 'segment ' + p.segment : p.source) + ' on ' + p.cores.join(', ');
    }).join('; ');
  }
  // Errors by kind: the requests' (`requests`; a WebSocket handshake is one), then those on
  // open WebSockets (`ws`, when they were used); '' when there were none.
  function errorKinds(requests, ws) {
    var parts = [];
    if (Object.keys(requests || {}).length) parts.push((ws ? 'requests: ' : '') + kv(requests));
    if (ws && Object.keys(ws.errors_by_kind || {}).length) parts.push('WebSockets: ' + kv(ws.errors_by_kind));
    return parts.join('; ');
  }
  // A run's errors by kind; one with failed transactions and no error of any kind says so, not `-`.
  function errorKindsText(t) {
    var kinds = errorKinds(t.errors_by_kind, t.websocket);
    if (kinds) return kinds;
    return t.transaction_errors ? 'none by kind: no request or WebSocket error (the first journey error below says what failed)' : '-';
  }
  // How a run stopped, in the terminal's words (`stopped at the end of its duration`); a name
  // the page has no words for is shown as it is. A completed run says why, as the terminal does.
  function stopText(run, words) {
    var name = run.stopped_by;
    if (name === 'completed' && typeof run.stopped_because === 'string') return 'stopped when its journeys were done: ' + run.stopped_because;
    return (words && typeof name === 'string' && Object.prototype.hasOwnProperty.call(words, name)) ? words[name] : name;
  }
  function summary(parent, run, thresholds, running, stopWords) {
    var t = run.totals || {};
    // Nothing answered: no latency to show ('-'), not measured-looking zeros.
    var lat = totalLatency(t, true);
    var cards = [card('requests', grouped(t.requests)), card('request errors', grouped(t.errors), t.errors ? 'bad' : 'good'),
      card('failed transactions', grouped(t.transaction_errors), t.transaction_errors ? 'bad' : 'good'),
      card('requests/s', grouped(t.rps)), card('p50', ms(usToMs(lat.p50))), card('p99', ms(usToMs(lat.p99))),
      card('p99.9', ms(usToMs(lat.p999))), card('max', ms(usToMs(lat.max))), card('received', bytes(t.body_bytes)), card('sent', bytes(t.sent_bytes)),
      card('duration', seconds(run.duration_s)), card('how it ended', running ? 'still running' : stopText(run, stopWords), 'words')];
    if (t.arrivals) cards.push(card('missed arrivals', grouped(t.arrivals.missed), t.arrivals.missed ? 'bad' : 'good'));
    var ws = t.websocket;
    if (ws) {
      cards.push(card('WebSocket messages', grouped(ws.messages_sent) + ' sent, ' + grouped(ws.messages_received) + ' received'));
      cards.push(card('WebSocket errors', grouped(ws.errors), ws.errors ? 'bad' : 'good'));
    }
    // --insecure: said on the page as on the terminal (a merge is unverified when one input was).
    if (run.tls_verified === false) cards.push(card('TLS certificates', 'NOT verified', 'bad'));
    var inj = run.injector;
    if (inj && inj.lag_us && inj.lag_us.count) {
      cards.push(card('injector', inj.saturated ? 'SATURATED' : 'ok', inj.saturated ? 'bad' : 'good'));
    }
    parent.appendChild(el('div', { cls: 'cards' }, cards));
    var rows = [['scenario', run.scenario], ['cores', coresText(run)], ['driver', run.driver],
      ['segment', run.segment || (run.label && run.label.indexOf('merged') === 0 ? run.label : 'single injector')], ['started', run.started_at_unix_s ? new Date(run.started_at_unix_s * 1000).toISOString() : '-'],
      ['status codes', kv(t.status_codes || t.status) + (t.status_codes_other ? ', other codes ' + grouped(t.status_codes_other) : '')], ['errors by kind', errorKindsText(t)],
      ['journeys', t.journeys ? 'started ' + grouped(t.journeys.started) + ', ok ' + grouped(t.journeys.ok) + ', failed ' +
        grouped(t.journeys.failed) + (t.journeys.panicked ? ' (panicked ' + grouped(t.journeys.panicked) + ')' : '') +
        ', cancelled ' + grouped(t.journeys.cancelled) : '-'],
      ['connections', connectsText(t.connects) + ', reconnects ' + grouped(t.reconnects)],
      ['TLS certificates', run.tls_verified === false ? 'NOT verified (--insecure): the servers were not authenticated' :
        run.tls_verified === true ? 'verified' : 'not recorded in this result']];
    if (inj && inj.lag_us && inj.lag_us.count) {
      rows.push(['injector', 'event-loop lag p99 ' + ms(usToMs(inj.lag_us.p99)) + ', max ' + ms(usToMs(inj.lag_us.max)) +
        (num(inj.busy_percent_max) ? '; busiest core ' + fixed(inj.busy_percent_max, 0) + '% (mean ' +
        fixed(inj.busy_percent_mean, 0) + '%)' : '; cores busy not measured')]);
    }
    if (t.arrivals) rows.push(['arrivals', 'requested ' + grouped(t.arrivals.requested) + ', started ' + grouped(t.arrivals.started) +
      (t.arrivals.datapool_exhausted ? ', not started ' + grouped(t.arrivals.datapool_exhausted) + ' (datapool exhausted)' : '') +
      ', missed ' + grouped(t.arrivals.missed)]);
    table(parent, ['', ''], rows);
    if (thresholds && thresholds.length) {
      table(parent, ['threshold', 'result', 'actual'], thresholds.map(function (th) {
        // An error: the threshold could not be checked (the run or merge exits 1), why in `actual`.
        // Left to merge: a segment's share of a count or rate, judged on the whole by `merge`.
        var verdict = th.left ? 'left to merge' : th.error ? 'ERROR' : th.passed ? 'pass' : 'FAIL';
        return [th.text, { text: verdict, cls: th.left ? '' : th.passed ? 'pass' : 'fail' }, th.actual];
      }));
    }
    (run.notes || []).forEach(function (n) { parent.appendChild(el('p', { cls: 'note', text: run.label + ': ' + n })); });
    var samples = run.error_samples || {};
    var kinds = Object.keys(samples);
    if (kinds.length) {
      parent.appendChild(el('ul', { cls: 'samples' }, kinds.map(function (k) { return el('li', { text: 'first ' + k + ' error: ' + samples[k] }); })));
    }
  }

  // ---- comparison ----
  // A transaction's own figures (count and rate of transactions, their durations); its error %
  // is the larger of the failed requests' share of attempts and the failed transactions' share,
  // as `mite-engine compare` and the `errors` threshold read it.
  // Durations from the intended start when `corrected` (every run compared has them), as
  // `mite-engine compare` reads them: an open-model run against a closed one compares their own.
  function figures(txn, duration, corrected) {
    var r = txn.requests || {};
    var attempts = num(r.attempts) ? r.attempts : (r.count || 0);
    var shares = [];
    if (attempts > 0) shares.push((r.errors || 0) * 100 / attempts);
    if (txn.count > 0) shares.push((txn.errors || 0) * 100 / txn.count);
    // Durations are of completed transactions: with none, the zeros written are not times.
    var lat = txn.count > 0 ? ((corrected && txn.latency_us_corrected) || txn.latency_us || {}) : {};
    // The file's rate is over the run's exact duration (its `duration_s` is rounded to the ms);
    // a file written without one reads 0 there.
    var rate = num(txn.rate) && txn.rate > 0 ? txn.rate : (duration > 0 ? txn.count / duration : 0);
    return { count: txn.count, rate: rate, p50: lat.p50, p99: lat.p99, p999: lat.p999,
      err: shares.length ? Math.max.apply(null, shares) : null };
  }
  // A figure with nothing to measure reads `no data` and is compared with nothing.
  function orNoData(format) { return function (v) { return num(v) ? format(v) : 'no data'; }; }
  function totalLatency(totals, corrected) {
    var lat = (corrected && totals.latency_us_corrected) || totals.latency_us || {};
    return num(lat.count) && lat.count === 0 ? {} : lat;
  }
  function deltaCell(base, value, limit, higherIsWorse, format) {
    format = orNoData(format);
    if (!num(base) || !num(value)) return { text: format(value) };
    if (base === 0) return { text: format(value) + (value === 0 ? '' : ' (new)'), cls: 'delta' };
    var change = (value - base) * 100 / base;
    var worse = higherIsWorse ? change > limit : -change > limit;
    var better = higherIsWorse ? -change > limit : change > limit;
    return { text: format(value) + ' (' + (change >= 0 ? '+' : '') + change.toFixed(1) + '%)', cls: 'delta ' + (worse ? 'worse' : (better ? 'better' : '')) };
  }
  function compareTables(parent, runs, limit, baseline) {
    var first = baseline ? ' (baseline)' : '';
    var allCorrected = runs.every(function (run) { return run.totals && run.totals.latency_us_corrected; });
    table(parent, ['run', 'scenario', 'duration', 'requests', 'errors', 'req/s', 'p50', 'p99', 'p99.9'], runs.map(function (run, i) {
      var t = run.totals || {};
      var lat = totalLatency(t, allCorrected);
      var base = runs[0].totals || {};
      var baseLat = totalLatency(base, allCorrected);
      var msf = orNoData(function (v) { return ms(usToMs(v)); });
      return [run.label + (i ? '' : first), run.scenario, seconds(run.duration_s), grouped(t.requests), grouped(t.errors),
        i ? deltaCell(base.rps, t.rps, limit, false, grouped) : grouped(t.rps),
        i ? deltaCell(baseLat.p50, lat.p50, limit, true, msf) : msf(lat.p50),
        i ? deltaCell(baseLat.p99, lat.p99, limit, true, msf) : msf(lat.p99),
        i ? deltaCell(baseLat.p999, lat.p999, limit, true, msf) : msf(lat.p999)];
    }), 'compare-runs');
    // Each run's transactions by name (a name such as `__proto__` is a name like any other).
    var names = Object.create(null);
    var byName = runs.map(function (run) {
      var found = Object.create(null);
      (run.transactions || []).forEach(function (t) { found[t.name] = t; names[t.name] = true; });
      return found;
    });
    var rows = [];
    Object.keys(names).sort().forEach(function (name) {
      var base = null;
      var corrected = byName.every(function (found) { return !found[name] || found[name].latency_us_corrected; });
      runs.forEach(function (run, i) {
        var txn = byName[i][name];
        if (!txn) { rows.push([name, run.label, { text: 'not in this run', cls: i ? 'worse' : '' }, '', '', '', '', '']); return; }
        var f = figures(txn, run.duration_s, corrected);
        if (i === 0) base = f;
        var msf = orNoData(function (v) { return ms(usToMs(v)); });
        var errf = orNoData(function (v) { return fixed(v, 3); });
        var b = i > 0 && base ? base : null;
        rows.push([name, run.label + (i ? '' : first), grouped(f.count),
          b ? deltaCell(b.rate, f.rate, limit, false, perSecond) : perSecond(f.rate),
          b ? deltaCell(b.p50, f.p50, limit, true, msf) : msf(f.p50),
          b ? deltaCell(b.p99, f.p99, limit, true, msf) : msf(f.p99),
          b ? deltaCell(b.p999, f.p999, limit, true, msf) : msf(f.p999),
          b && num(b.err) && num(f.err) ? { text: fixed(f.err, 3) + ' (' + (f.err - b.err >= 0 ? '+' : '') + fixed(f.err - b.err, 3) + ' pp)',
            cls: 'delta ' + (f.err - b.err > limit ? 'worse' : '') } : errf(f.err)]);
      });
    });
    table(parent, ['transaction', 'run', 'count', 'txn/s', 'p50', 'p99', 'p99.9', 'error %'], rows, 'compare-transactions');
    if (runs.some(hasWebSockets)) {
      parent.appendChild(el('h3', { text: 'WebSockets' }));
      wsCompareTable(parent, runs, limit, first);
    }
  }
  function overlaidRuns(parent, runs, grid, prefix, rerender) {
    var box = el('div', { cls: 'grid' });
    parent.appendChild(box);
    var names = ['all requests'];
    runs.forEach(function (run) { (run.transactions || []).forEach(function (t) { if (names.indexOf(t.name) < 0) names.push(t.name); }); });
    var name = names.indexOf(selected[prefix]) >= 0 ? selected[prefix] : 'all requests';
    var entries = runs.map(function (run) {
      var d = name === 'all requests' ? run.distribution : ((run.transactions || []).filter(function (t) { return t.name === name; })[0] || {}).distribution;
      return { label: run.label, distribution: d };
    });
    var s = spectrumSeries(entries, grid);
    chart(box, { id: prefix + '-spectrum', title: 'Latency by percentile, runs overlaid', x: s.x, series: s.series, xLabel: 'percentile',
      xFormat: percentLabel, xSplits: nineSplits, yLabel: 'ms', yFormat: ms, hint: 'dashed: corrected',
      select: { options: names, value: name, onChange: function (v) { selected[prefix] = v; rerender(); } } });
    // Each run from its own start; the x axis is the union of every run's interval ends.
    var lines = runs.map(function (run) { return timeline(run); });
    var times = {};
    lines.forEach(function (tl) { tl.t.forEach(function (t) { times[t] = true; }); });
    var x = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    var align = function (tl, values) {
      var at = {};
      tl.t.forEach(function (t, i) { at[t] = values[i]; });
      return x.map(function (t) { return t in at ? at[t] : null; });
    };
    chart(box, Object.assign({ id: prefix + '-rps', title: 'Requests per second, runs overlaid', yLabel: 'req/s', x: x, yFormat: grouped,
      hint: 'each run from its own start', spanGaps: true,
      series: lines.map(function (tl, i) { return { label: runs[i].label, values: align(tl, tl.rate(function (p) { return p.requests; })) }; }) }, timeAxis));
    chart(box, Object.assign({ id: prefix + '-p99', title: 'p99 over time, runs overlaid', yLabel: 'ms', x: x, yFormat: ms, spanGaps: true,
      series: lines.map(function (tl, i) { return { label: runs[i].label, values: align(tl, tl.value(function (p) { var l = allLatency(p); return l ? usToMs(l.p99_us) : null; })) }; }) }, timeAxis));
    if (!lines.some(hasWsIntervals)) return;
    // A run whose intervals have no WebSocket figures (none, or a file written before they
    // were recorded) draws no line: not a line at 0.
    var wsRate = function (tl) {
      return hasWsIntervals(tl) ? tl.rate(function (p) { return wsCount('messages_sent')(p) + wsCount('messages_received')(p); }) : [];
    };
    chart(box, Object.assign({ id: prefix + '-ws-messages', title: 'WebSocket messages per second (sent and received), runs overlaid', yLabel: 'msg/s',
      x: x, yFormat: grouped, hint: 'each run from its own start', spanGaps: true,
      series: lines.map(function (tl, i) { return { label: runs[i].label, values: align(tl, wsRate(tl)) }; }) }, timeAxis));
    if (!lines.some(function (tl) { return tl.iv.some(function (p) { return wsReply(p, 'p99_us') != null; }); })) return;
    chart(box, Object.assign({ id: prefix + '-ws-p99', title: 'WebSocket reply p99 over time, runs overlaid', yLabel: 'ms', x: x, yFormat: ms, spanGaps: true,
      series: lines.map(function (tl, i) { return { label: runs[i].label, values: align(tl, tl.value(function (p) { return wsReply(p, 'p99_us'); })) }; }) }, timeAxis));
  }

  // ---- pages ----
  function section(main, id, title) {
    main.appendChild(el('h2', { id: id, text: title }));
    var box = el('section');
    main.appendChild(box);
    return box;
  }
  function header(page, title, subtitle) {
    var h = el('header', {}, [el('h1', { text: title }), el('p', { text: subtitle })]);
    if (page.live) {
      var live = el('span', { cls: 'live' + (page.live.finished ? ' done' : ''), text: page.live.finished ? 'finished' : 'LIVE' });
      h.firstChild.appendChild(live);
      var p = el('p', { text: page.live.finished ? 'The run has finished: this is its final report. ' :
        'Updated every ' + seconds(Math.max(0.5, page.live.tick_s || 1)) + '; ' + seconds(page.live.elapsed_s) + ' of ' + seconds(page.live.duration_s) + '. ' });
      p.appendChild(el('a', { href: 'report.html', download: 'mite-report.html', text: 'save this report as one file' }));
      h.appendChild(p);
    }
    return h;
  }
  function nav(links) {
    return el('nav', {}, links.map(function (l) { return el('a', { href: '#' + l[0], text: l[1] }); }));
  }
  function renderRun(app, page, run, rerender) {
    app.appendChild(header(page, 'mite-engine: ' + run.scenario, (run.segment ? 'segment ' + run.segment : run.parts ? 'merged from ' + grouped(run.parts.length) + ' results on ' +
      grouped((run.cores || []).length) + ' cores' : 'cores ' + (run.cores || []).join(', ')) +
      ' · ' + (run.driver || '') + ' · ' + seconds(run.duration_s) + ' · ' + (page.generated_by || '')));
    var links = [['summary', 'Summary'], ['over-time', 'Over time'], ['distributions', 'Distributions'], ['tables', 'Transactions']];
    var websockets = hasWebSockets(run);
    if (websockets) links.push(['websockets', 'WebSockets']);
    if (page.segments) links.push(['segments', 'Segments']);
    app.appendChild(nav(links));
    var main = el('main');
    app.appendChild(main);
    summary(section(main, 'summary', 'Summary'), run, page.thresholds, !!(page.live && !page.live.finished), page.stop_words);
    overTime(section(main, 'over-time', 'Over time'), run, !!page.segments, rerender);
    distributions(section(main, 'distributions', 'Distributions'), run, page.spectrum_nines, rerender);
    txnTable(section(main, 'tables', 'Transactions'), run);
    if (websockets) wsTable(section(main, 'websockets', 'WebSockets'), run);
    if (page.segments) {
      var seg = section(main, 'segments', 'Segments (one result file each)');
      compareTables(seg, page.segments, Infinity, false);
      overlaidRuns(seg, page.segments, page.spectrum_nines, 'segments', rerender);
    }
  }
  function renderCompare(app, page, rerender) {
    var runs = page.runs;
    var limit = page.compare ? page.compare.max_regression_pct : 5;
    app.appendChild(header(page, 'mite-engine: comparison of ' + runs.length + ' runs', 'baseline: ' + runs[0].label + ' · ' + (page.generated_by || '')));
    app.appendChild(nav([['regressions', 'Regressions'], ['charts', 'Charts'], ['table', 'Transactions']]));
    var main = el('main');
    app.appendChild(main);
    var reg = section(main, 'regressions', 'Regressions beyond ' + limit + '%');
    runs.forEach(function (run) { (run.notes || []).forEach(function (n) { reg.appendChild(el('p', { cls: 'note', text: run.label + ': ' + n })); }); });
    var list = (page.compare && page.compare.regressions) || [];
    reg.appendChild(list.length ? el('ul', { cls: 'samples' }, list.map(function (r) { return el('li', { text: r }); }))
      : el('p', { cls: 'note', text: 'none: no latency rose, no rate fell, by more than ' + limit + '% against the baseline' }));
    overlaidRuns(section(main, 'charts', 'Charts'), runs, page.spectrum_nines, 'compare', rerender);
    compareTables(section(main, 'table', 'Transactions against the baseline'), runs, limit, true);
  }
  function render(page) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    status.charts = [];
    var app = document.getElementById('app');
    var scroll = window.scrollY;
    app.textContent = '';
    var rerender = function () { render(page); };
    if (!page.runs || !page.runs.length) {
      app.appendChild(header(page, 'mite-engine', 'waiting for the first interval'));
    } else if (page.mode === 'compare') {
      renderCompare(app, page, rerender);
    } else {
      renderRun(app, page, page.runs[0], rerender);
    }
    window.scrollTo(0, scroll);
    status.finished = !page.live || !!page.live.finished;
    publishStatus();
  }

  // ---- live updates ----
  function poll(page, failures) {
    if (!page.live || page.live.finished) return;
    var wait = Math.max(500, (page.live.tick_s || 1) * 1000);
    setTimeout(function () {
      fetch('data.json', { cache: 'no-store' }).then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      }).then(function (next) {
        status.updates = (status.updates || 0) + 1;
        render(next);
        poll(next, 0);
      }).catch(function (e) {
        if (failures >= 3) {
          document.querySelector('header').appendChild(el('p', { text: 'The dashboard stopped answering (' + e.message + '); the last data is shown.' }));
          return;
        }
        poll(page, failures + 1);
      });
    }, wait);
  }

  window.addEventListener('error', showErrors);
  document.addEventListener('securitypolicyviolation', showErrors);
  try {
    var page = JSON.parse(document.getElementById('mite-data').textContent);
    render(page);
    showErrors();
    poll(page, 0);
  } catch (e) {
    fail('script error: ' + (e && e.stack ? e.stack : e));
  }
})();
