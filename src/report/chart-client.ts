/**
 * report.html's browser side: the script that draws the page's charts (`ChartSpec`s, embedded as
 * JSON in `#chart-data`) with uPlot, inlined into the page as text.
 */

/**
 * The browser side: draws each chart of the embedded JSON with uPlot. Spectra put x = 1/(1-p) on
 * a log axis with ticks at 0 %, 50 %, 90 %, 99 %, 99.9 %…; time charts shade the warm-up. Count
 * axes (linear and asinh) end on a labelled tick at or above the highest value shown. Each
 * chart's uPlot instance is left on its figure element (`.uplot`), for the browser test.
 */
export const CHART_CLIENT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('chart-data').textContent);
  function decimals(x) { return Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 2); }
  function pct(x) { return x <= 1 ? '0 %' : (100 * (1 - 1 / x)).toFixed(decimals(x)) + ' %'; }
  function pctExact(x) { return x <= 1 ? '0 %' : Number((100 * (1 - 1 / x)).toFixed(decimals(x) + 3)) + ' %'; }
  function spectrumSplits(u, i, min, max) {
    // No tick at 1 (p = 0): on a log axis it sits too close to 2 (50 %) for both labels.
    var s = [2];
    for (var x = 10; x <= max * 1.0001; x *= 10) s.push(x);
    return s.filter(function (v) { return v >= min / 1.0001 && v <= max * 1.0001; });
  }
  // The top of a linear count axis: the smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or
  // above x, with the number of equal steps that makes every tick a round number.
  var TOPS = [[1, 5], [1.2, 6], [1.5, 3], [2, 4], [2.5, 5], [3, 6], [4, 4], [5, 5], [6, 6], [8, 4], [10, 5]];
  function linearTop(x) {
    if (!(x > 0)) return [1, 5];
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    if (p * 10 <= x) p *= 10;
    for (var i = 0; i < TOPS.length; i++) if (TOPS[i][0] * p >= x * 0.99999) return [Number((TOPS[i][0] * p).toPrecision(6)), TOPS[i][1]];
    return [10 * p, 5];
  }
  function linearSplits(u, i, min, max) {
    var n = linearTop(max)[1], s = [];
    for (var k = 0; k <= n; k++) s.push(Number(((max * k) / n).toPrecision(6)));
    return s;
  }
  // The top of an asinh count axis: the smallest 1, 2 or 5 × 10^k at or above x.
  function countTop(x) {
    if (!(x > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    if (p * 10 <= x) p *= 10;
    var m = x / p;
    return (m <= 1.00001 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  // Counts on an asinh axis: 0, the powers of 10 (with 2 and 5 while the top is small: uPlot's own
  // splits start at -1), and the top itself, labelled; a tick closer than 20 px to the one below
  // it or to the top is left out, so no two labels overlap.
  function countSplits(u, i, min, max) {
    var key = u.axes[i].scale, gap = 20;
    var px = function (v) { return u.valToPos(v, key); };
    var s = [0], steps = max <= 50 ? [1, 2, 5] : [1];
    for (var d = 1; d < max; d *= 10) {
      steps.forEach(function (k) {
        var v = k * d;
        if (v < max && Math.abs(px(v) - px(s[s.length - 1])) >= gap && Math.abs(px(max) - px(v)) >= gap) s.push(v);
      });
    }
    s.push(max);
    return s;
  }
  function yScale(kind) {
    if (kind === 'log') return { distr: 3, log: 10 };
    if (kind === 'asinh') return { distr: 4, asinh: 1, range: function (u, min, max) { return [0, countTop(max)]; } };
    return { range: function (u, min, max) { return [0, linearTop(max * 1.05)[0]]; } };
  }
  function shadeWarmup(end) {
    return function (u) {
      var lo = u.scales.x.min, hi = Math.min(end, u.scales.x.max);
      if (hi <= lo) return;
      // A few pixels past the band's end, so the point of the last warm-up second (drawn at its
      // end) sits wholly inside it.
      var x0 = u.valToPos(lo, 'x', true), x1 = Math.min(u.valToPos(hi, 'x', true) + 6 * devicePixelRatio, u.bbox.left + u.bbox.width);
      var ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = 'rgba(0, 0, 0, 0.08)';
      ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      ctx.fillStyle = 'rgba(0, 0, 0, 0.55)';
      ctx.font = Math.round(11 * devicePixelRatio) + 'px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      ctx.fillText('warm-up', x0 + 4 * devicePixelRatio, u.bbox.top + 4 * devicePixelRatio);
      ctx.restore();
    };
  }
  // The sink's run-time changes: a dashed vertical line each, labelled at the top, so a step in a
  // line reads against the change that caused it.
  function drawMarks(u) {
    var ctx = u.ctx, dpr = devicePixelRatio;
    ctx.save();
    ctx.strokeStyle = 'rgba(120, 0, 160, 0.8)';
    ctx.fillStyle = 'rgba(120, 0, 160, 0.9)';
    ctx.lineWidth = dpr;
    ctx.setLineDash([4 * dpr, 3 * dpr]);
    ctx.font = Math.round(11 * dpr) + 'px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    data.marks.forEach(function (m, i) {
      if (m.atS < u.scales.x.min || m.atS > u.scales.x.max) return;
      var x = u.valToPos(m.atS, 'x', true);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      // Labels step down, so two changes close together stay readable.
      ctx.fillText(m.label, x + 3 * dpr, u.bbox.top + (18 + 13 * (i % 3)) * dpr);
    });
    ctx.restore();
  }
  function draw(c) {
    var fig = document.getElementById('chart-' + c.id);
    var plot = fig.querySelector('.plot');
    var spectrum = c.kind === 'spectrum';
    var few = c.x.length <= 40;
    // Points where there are few x values, or on a line of at most 3 values (one sample, one second):
    // a line alone would not show them.
    function showPoints(u, si) {
      var d = u.data[si], n = 0;
      for (var i = 0; i < d.length; i++) if (d[i] != null) n++;
      return few || n <= 3;
    }
    // Outside a hover uPlot calls value() with no index: the legend then shows names only (CSS, .idle).
    function shown(v, idx, text) { return idx == null ? '' : v == null ? '–' : text(v); }
    function xText(v) { return spectrum ? pctExact(v) : v.toFixed(1) + ' s'; }
    var first = c.views[0].series;
    var series = [{ label: spectrum ? 'percentile' : 'second', value: function (u, v, si, idx) { return shown(v, idx, xText); } }];
    first.forEach(function (s) {
      series.push({
        label: s.label,
        show: !s.hidden,
        stroke: s.color,
        width: 2,
        dash: s.dash ? [8, 5] : undefined,
        scale: s.right ? 'y2' : 'y',
        paths: s.pointsOnly ? function () { return null; } : undefined,
        points: s.pointsOnly ? { show: true, size: 9, stroke: s.color, fill: s.color } : { show: showPoints, size: c.x.length <= 3 ? 9 : 5, stroke: s.color, fill: s.color },
        value: function (u, v, si, idx) { return shown(v, idx, String); },
      });
    });
    var countAxis = c.yScale === 'asinh' ? countSplits : c.yScale === 'linear' ? linearSplits : undefined;
    var axes = [
      spectrum
        ? {
            label: 'percentile',
            splits: spectrumSplits,
            // uPlot's log axes keep labels only at powers of 10 unless told otherwise: keep 2 (50 %) too.
            filter: function (u, splits) { return splits; },
            values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : pct(v); }); },
          }
        : { label: 'seconds since start' },
      // filter: uPlot labels only the powers of 10 on an asinh axis; every split here is meant to be labelled.
      countAxis ? { label: c.yLabel, scale: 'y', size: 60, splits: countAxis, filter: function (u, splits) { return splits; } } : { label: c.yLabel, scale: 'y', size: 60 },
    ];
    // Thin grid lines: a log axis draws one at every 1..9 multiple.
    axes.forEach(function (a) { a.grid = { stroke: 'rgba(0, 0, 0, 0.07)', width: 1 }; });
    // A spectrum's x axis ends where its longest line ends (uPlot would round it up to a decade).
    // Time axes start at 0, the start of the run, so the warm-up band is whole.
    var xs = spectrum
      ? { time: false, distr: 3, log: 10, range: function (u, min, max) { return [1, max]; } }
      : { time: false, range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max : 1]; } };
    var scales = { x: xs, y: yScale(c.yScale) };
    if (c.yRange) {
      // Both spectra open on the same decades; a line switched on may widen them.
      var r = c.yRange;
      scales.y.range = function (u, min, max) {
        var lo = min > 0 ? Math.min(min, r[0]) : r[0], hi = max > 0 ? Math.max(max, r[1]) : r[1];
        return [Math.pow(10, Math.floor(Math.log10(lo) + 1e-9)), Math.pow(10, Math.ceil(Math.log10(hi) - 1e-9))];
      };
    }
    if (c.y2Label) {
      axes.push({ label: c.y2Label, scale: 'y2', side: 1, grid: { show: false }, splits: linearSplits });
      scales.y2 = yScale('linear');
    }
    function columns(view) { return [c.x].concat(view.series.map(function (s) { return s.values; })); }
    var hooks = {
      setLegend: [function (u) { u.root.classList.toggle('idle', u.cursor.idx == null); }],
    };
    if (!spectrum && c.warmupEndS > 0) hooks.drawClear = [shadeWarmup(c.warmupEndS)];
    if (!spectrum && data.marks && data.marks.length > 0) hooks.draw = [drawMarks];
    var opts = {
      width: Math.max(plot.clientWidth, 300),
      height: 320,
      scales: scales,
      axes: axes,
      series: series,
      hooks: hooks,
    };
    var u = new uPlot(opts, columns(c.views[0]), plot);
    u.root.classList.add('idle');
    fig.uplot = u;
    if (c.views.length > 1) {
      var label = document.createElement('label');
      label.textContent = (c.viewLabel || 'view') + ' ';
      var select = document.createElement('select');
      c.views.forEach(function (v, i) {
        var o = document.createElement('option');
        o.value = String(i);
        o.textContent = v.name;
        select.appendChild(o);
      });
      select.addEventListener('change', function () { u.setData(columns(c.views[Number(select.value)])); });
      label.appendChild(select);
      fig.querySelector('.controls').appendChild(label);
    }
    window.addEventListener('resize', function () { u.setSize({ width: Math.max(plot.clientWidth, 300), height: 320 }); });
  }
  data.charts.forEach(draw);
  document.body.setAttribute('data-charts-drawn', String(data.charts.length));
})();
`;
