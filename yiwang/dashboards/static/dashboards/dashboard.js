/* The command-centre dashboard and the big screen: figures come from /api/v1/dashboards/*. */
(function () {
  var root = document.getElementById('dash');
  if (!root) return;
  var api = root.dataset.api, area = root.dataset.area, big = root.dataset.mode === 'big';
  var areaUrl = function (path) { return root.dataset.areaUrl.replace('PATH', path) + location.search; };
  var period = function () { return 'area=' + encodeURIComponent(area) + '&start=' + root.dataset.start + '&end=' + root.dataset.end; };
  var charts = {};
  var fg = big ? '#cfe3ff' : '#333', grid = big ? '#1d3557' : '#e5e5e5';

  function get(path, extra) {
    return fetch(api + path + '?' + period() + (extra || ''), {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) throw body; return body; }); });
  }
  function pct(v) { return v === null || v === undefined ? '—' : v.toFixed(1) + '%'; }
  function esc(s) { var d = document.createElement('div'); d.textContent = s === null || s === undefined ? '' : String(s); return d.innerHTML; }
  function when(s) { return s ? s.replace('T', ' ').slice(5, 16) : ''; }
  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    if (!charts[id]) charts[id] = echarts.init(el, big ? 'dark' : null, {renderer: 'canvas'});
    return charts[id];
  }
  function showError(err) {
    var note = document.getElementById('empty-note');
    if (note && err && err.error) { note.textContent = err.error.message + ' ' + JSON.stringify(err.error.fields || ''); note.classList.remove('hidden'); }
  }

  function loadIndicators() {
    return get('indicators/').then(function (d) {
      document.querySelectorAll('#tiles [data-key]').forEach(function (tile) {
        var k = tile.dataset.key, b = tile.querySelector('b');
        if (k in d.rates) b.textContent = pct(d.rates[k]);
        else if (k in d.counts) b.textContent = d.counts[k];
        else b.textContent = d[k];
      });
      var note = document.getElementById('empty-note');
      if (note) note.classList.toggle('hidden', !d.empty);
    }, showError);
  }
  function loadTrend() {
    return get('trend/').then(function (d) {
      var c = chart('chart-trend'); if (!c) return;
      c.setOption({backgroundColor: 'transparent', tooltip: {trigger: 'axis'}, legend: {data: ['受理', '结案', '超期结案'], textStyle: {color: fg}},
        grid: {left: 40, right: 16, top: 30, bottom: 24}, xAxis: {type: 'category', data: d.days.map(function (s) { return s.slice(5); })},
        yAxis: {type: 'value', minInterval: 1, splitLine: {lineStyle: {color: grid}}},
        series: [{name: '受理', type: 'line', data: d.series.intake, areaStyle: {opacity: 0.15}},
                 {name: '结案', type: 'line', data: d.series.closed},
                 {name: '超期结案', type: 'bar', data: d.series.overdue_closed, itemStyle: {color: '#d9534f'}}]}, true);
    });
  }
  function loadCategories() {
    return get('categories/').then(function (d) {
      var c = chart('chart-categories'); if (!c) return;
      var items = d.items.slice().reverse();
      c.setOption({backgroundColor: 'transparent', tooltip: {trigger: 'axis'}, grid: {left: 90, right: 20, top: 10, bottom: 20},
        xAxis: {type: 'value', minInterval: 1, splitLine: {lineStyle: {color: grid}}},
        yAxis: {type: 'category', data: items.map(function (i) { return i.name; })},
        series: [{name: '受理', type: 'bar', data: items.map(function (i) { return i.intake; }), itemStyle: {color: '#3b82f6'}},
                 {name: '结案', type: 'bar', data: items.map(function (i) { return i.closed; }), itemStyle: {color: '#22c55e'}}]}, true);
    });
  }
  function gradeCell(g) { return '<td><span class="grade grade-' + esc(g) + '">' + esc(g) + '</span></td>'; }
  function loadRankings() {
    var jobs = [];
    var areas = document.querySelector('#rank-areas tbody');
    if (areas) jobs.push(function () { return get('rankings/', '&kind=areas').then(function (d) {
      areas.innerHTML = d.items.slice(0, big ? 12 : 100).map(function (i) {
        return '<tr><td>' + (i.rank || '—') + '</td><td><a href="' + areaUrl(i.path) + '" data-drill="' + i.path + '">' + esc(i.name) + '</a></td><td>' +
          i.counts.intake + '</td><td>' + pct(i.rates.response_rate) + '</td><td>' + pct(i.rates.resolution_rate) + '</td><td>' +
          pct(i.rates.satisfaction_rate) + '</td><td>' + (i.score === null ? '—' : i.score) + '</td>' + gradeCell(i.grade) + '<td>' + i.overdue_now + '</td></tr>';
      }).join('') || '<tr><td colspan="9">—</td></tr>';
    }); });
    var deps = document.querySelector('#rank-departments tbody');
    if (deps) jobs.push(function () { return get('rankings/', '&kind=departments').then(function (d) {
      deps.innerHTML = d.items.slice(0, big ? 8 : 50).map(function (i) {
        return '<tr><td>' + (i.rank || '—') + '</td><td>' + esc(i.name) + '</td><td>' + i.counts.closed + '</td><td>' +
          pct(i.rates.on_time_closure_rate) + '</td><td>' + (i.score === null ? '—' : i.score) + '</td>' + gradeCell(i.grade) + '</tr>';
      }).join('') || '<tr><td colspan="6">—</td></tr>';
    }); });
    var workers = document.querySelector('#rank-workers tbody');
    if (workers) jobs.push(function () { return get('rankings/', '&kind=workers').then(function (d) {
      workers.innerHTML = d.items.slice(0, big ? 8 : 50).map(function (i) {
        return '<tr><td>' + (i.rank || '—') + '</td><td>' + esc(i.name) + '</td><td>' + i.reported + '</td><td>' + i.verified +
          '</td><td>' + (i.score === null ? '—' : i.score) + '</td>' + gradeCell(i.grade) + '</tr>';
      }).join('') || '<tr><td colspan="6">—</td></tr>';
    }); });
    return jobs.reduce(function (chain, f) { return chain.then(f); }, Promise.resolve());
  }
  function loadLists() {
    var jobs = [];
    ['overdue', 'supervised'].forEach(function (which) {
      var body = document.querySelector('#list-' + which + ' tbody');
      if (!body) return;
      jobs.push(function () { return get('cases/', '&list=' + which).then(function (d) {
        body.innerHTML = d.items.slice(0, big ? 8 : 50).map(function (c) {
          var fourth = which === 'overdue' ? esc(c.department) : (c.supervision === 'red' ? '<span class="mark-red">红牌</span>' : '<span class="mark-yellow">黄牌</span>');
          return '<tr><td><a href="/cases/' + c.id + '/">' + esc(c.tracking_code) + '</a></td><td>' + esc(c.category) + '</td><td>' +
            esc(c.grid) + '</td><td>' + fourth + '</td><td>' + when(c.deadline) + '</td></tr>';
        }).join('') || '<tr><td colspan="5">—</td></tr>';
      }); });
    });
    return jobs.reduce(function (chain, f) { return chain.then(f); }, Promise.resolve());
  }
  function loadPopulation() {
    var dl = document.getElementById('population');
    if (!dl) return Promise.resolve();
    return get('population/').then(function (d) {
      var p = d.population, f = d.fieldwork, html = '';
      html += '<dt>实有人口</dt><dd>' + p.residents + '</dd><dt>户数</dt><dd>' + p.households + '</dd>';
      p.groups.forEach(function (g) { html += '<dt>' + esc(g.name) + '</dt><dd>' + g.n + '</dd>'; });
      if (f.patrols !== null) {
        html += '<dt>巡查次数</dt><dd>' + f.patrols + '</dd><dt>走访次数</dt><dd>' + f.visits + '</dd>' +
          '<dt>网格巡查覆盖</dt><dd>' + f.grids_patrolled + ' / ' + f.grids + ' (' + pct(f.coverage_pct) + ')</dd>';
      }
      dl.innerHTML = html;
    });
  }

  var map, polygons, markers, heat;
  function colour(v, max) {
    if (!v) return big ? '#10233f' : '#f1f5f9';
    var t = Math.min(1, v / (max || 1));
    var stops = [[255, 237, 160], [254, 178, 76], [240, 59, 32], [153, 0, 13]];
    var i = Math.min(stops.length - 2, Math.floor(t * (stops.length - 1))), f = t * (stops.length - 1) - i;
    var c = stops[i].map(function (x, k) { return Math.round(x + (stops[i + 1][k] - x) * f); });
    return 'rgb(' + c.join(',') + ')';
  }
  function loadMap() {
    var el = document.getElementById('map');
    if (!el || !window.L) return Promise.resolve();
    var form = document.getElementById('map-filters');
    var measure = form ? form.measure.value : 'intake';
    var extra = form ? '&category=' + encodeURIComponent(form.category.value) + '&state=' + encodeURIComponent(form.state.value) : '';
    if (!map) {
      map = L.map(el, {zoomControl: true, attributionControl: false, preferCanvas: true});
      polygons = L.layerGroup().addTo(map); markers = L.layerGroup().addTo(map);
      heat = L.HeatCanvas ? new L.HeatCanvas([]) : null;
    }
    return get('map/', extra).then(function (d) {
      polygons.clearLayers(); markers.clearLayers();
      var max = 0;
      d.features.forEach(function (f) { max = Math.max(max, f.properties[measure] || 0); });
      var layer = L.geoJSON(d, {
        style: function (f) { return {color: big ? '#3b82f6' : '#64748b', weight: 1, fillOpacity: 0.7, fillColor: colour(f.properties[measure], max)}; },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindTooltip(esc(p.name) + '<br>受理 ' + p.intake + ' · 在办 ' + p.open + ' · 超期 ' + p.overdue);
          l.on('click', function () {
            // Drill down one level towards the clicked grid.
            var next = {district: 9, subdistrict: 12, community: 15}[root.dataset.level];
            if (next) location.href = areaUrl(p.path.slice(0, next));
          });
        }
      });
      polygons.addLayer(layer);
      var pts = [];
      d.markers.forEach(function (m) {
        pts.push([m.lat, m.lon]);
        L.circleMarker([m.lat, m.lon], {radius: 4, weight: 1, color: m.overdue ? '#b91c1c' : '#1d4ed8',
          fillOpacity: 0.9}).bindTooltip(esc(m.code) + ' ' + esc(m.category)).addTo(markers);
      });
      if (heat) {
        heat.setPoints(pts);
        var on = !form || form.heat.checked;
        if (on && !map.hasLayer(heat)) heat.addTo(map); else if (!on && map.hasLayer(heat)) map.removeLayer(heat);
      }
      if (d.features.length && !map._fitted) { map.fitBounds(layer.getBounds(), {padding: [8, 8]}); map._fitted = true; }
      if (!d.features.length && !map._fitted) { map.setView([37.524, 111.1345], 13); map._fitted = true; }
    });
  }

  function loadAll() {
    // One request at a time: gentle on the server when many screens refresh together.
    var steps = [loadIndicators, loadTrend, loadCategories, loadRankings, loadLists, loadPopulation, loadMap];
    return steps.reduce(function (chain, f) { return chain.then(f); }, Promise.resolve())
      .then(function () { root.dataset.loaded = '1'; var s = document.getElementById('updated'); if (s) s.textContent = new Date().toLocaleTimeString('zh-CN'); })
      .catch(function (e) { root.dataset.loaded = 'error'; showError(e); });
  }
  var form = document.getElementById('map-filters');
  if (form) form.addEventListener('change', loadMap);
  window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  loadAll();
  var refresh = parseInt(root.dataset.refresh || '0', 10);
  if (refresh > 0) setInterval(loadAll, refresh * 1000);
})();
