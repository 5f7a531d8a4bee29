// Registry map layers: buildings (with resident counts) and urban components, from the GeoJSON endpoints.
(function () {
  const el = document.getElementById("registry-map");
  if (!el || !window.L) return;
  const map = L.map(el, { preferCanvas: true });
  const colours = { normal: "#2e8b57", damaged: "#e6a700", missing: "#c0392b", occupied: "#8e44ad", removed: "#777" };
  const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  Promise.all([fetch(el.dataset.buildings).then((r) => r.json()), fetch(el.dataset.components).then((r) => r.json())])
    .then(([buildings, components]) => {
      const b = L.geoJSON(buildings, {
        pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 5, color: "#2c3e50", weight: 1, fillOpacity: 0.6 }),
        onEachFeature: (f, layer) => layer.bindPopup(`<b>${esc(f.properties.name)}</b><br>${esc(f.properties.address)}<br>户 ${f.properties.dwellings} · 人 ${f.properties.residents}`),
      });
      const c = L.geoJSON(components, {
        pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, color: colours[f.properties.state] || "#333", weight: 2, fillOpacity: 0.9 }),
        onEachFeature: (f, layer) => layer.bindPopup(`<b>${esc(f.properties.code)}</b><br>${esc(f.properties.major)} · ${esc(f.properties.category)}<br>${esc(f.properties.state_label)}`),
      });
      b.addTo(map); c.addTo(map);
      L.control.layers(null, { "楼栋 Buildings": b, "部件 Components": c }).addTo(map);
      const all = L.featureGroup([b, c]);
      if (all.getLayers().length && all.getBounds().isValid()) map.fitBounds(all.getBounds().pad(0.05));
      else map.setView([37.524, 111.13], 14);
    });
})();
