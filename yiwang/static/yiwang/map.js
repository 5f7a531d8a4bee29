// Map page: draws the visible area tree as polygons. Works with no tile layer (intranets).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el) return;
  var map = L.map(el, { zoomSnap: 0.25, preferCanvas: false });
  var tileUrl = el.dataset.tileUrl;
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
  }
  var styles = {
    subdistrict: { color: "#c0392b", weight: 3.5, fill: false },
    community: { color: "#1f5f8b", weight: 2, fill: false },
    grid: { color: "#3c9d6b", weight: 0.8, fillColor: "#9fd8bb", fillOpacity: 0.35 }
  };
  // Data is WGS-84; tile providers on GCJ-02 (AMap, Tencent) need the shift for display only.
  function toGcj(lng, lat) {
    var a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
    function tLat(x, y) { var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
      r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3; r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
      r += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3; return r; }
    function tLng(x, y) { var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
      r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3; r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
      r += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3; return r; }
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35), rad = lat / 180 * PI;
    var magic = 1 - ee * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * PI); dLng = (dLng * 180) / (a / sq * Math.cos(rad) * PI);
    return [lat + dLat, lng + dLng];
  }
  var coordsToLatLng = el.dataset.tileGcj02 === "1"
    ? function (c) { var p = toGcj(c[0], c[1]); return L.latLng(p[0], p[1]); }
    : function (c) { return L.latLng(c[1], c[0]); };
  var panel = document.getElementById("area-panel");
  var detailUrl = el.dataset.detailUrl;
  function showDetail(id) {
    fetch(detailUrl.replace("/0/", "/" + id + "/"), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { panel.innerHTML = html; });
  }
  fetch(el.dataset.url, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var counts = { subdistrict: 0, community: 0, grid: 0 };
      var order = { subdistrict: 0, community: 1, grid: 2 };
      // Grids first (bottom) and clickable; community and subdistrict outlines are drawn over them
      // so their borders stay visible, and let clicks through.
      data.features.sort(function (a, b) { return order[b.properties.level] - order[a.properties.level]; });
      var gridTotal = data.features.filter(function (f) { return f.properties.level === "grid"; }).length;
      var layer = L.geoJSON(data, {
        coordsToLatLng: coordsToLatLng,
        style: function (f) { return styles[f.properties.level] || styles.grid; },
        interactive: true,
        onEachFeature: function (f, l) {
          counts[f.properties.level] = (counts[f.properties.level] || 0) + 1;
          var p = f.properties;
          l.options.className = "yw-" + p.level;
          l.options.interactive = p.level === "grid";
          if (p.level === "grid" && gridTotal <= 40) {
            l.bindTooltip(p.name, { permanent: true, direction: "center", className: "area-label grid-name" });
          } else if (p.level === "community") {
            l.bindTooltip(p.name, { permanent: true, direction: "center", className: "area-label" });
          }
          if (p.level === "grid") {
            if (gridTotal > 40) { l.bindTooltip(p.name + "<br><small>" + p.code + "</small>", { sticky: true }); }
            l.on("click", function () { showDetail(p.id); });
          }
        }
      }).addTo(map);
      if (data.features.length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      else { map.setView([37.524, 111.134], 13); }
      var box = document.getElementById("map-counts");
      box.innerHTML = "<div><b>" + counts.subdistrict + "</b>" + YW_I18N.subdistricts + "</div>" +
        "<div><b>" + counts.community + "</b>" + YW_I18N.communities + "</div>" +
        "<div data-testid='grid-count'><b>" + counts.grid + "</b>" + YW_I18N.grids + "</div>";
      el.dataset.loaded = "1";
    });
})();
