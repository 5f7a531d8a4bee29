// Registry map layers: the area's urban components, and buildings with their dwelling and resident counts.
// A district holds ~24,000 buildings, so they are asked for the map's view (bbox) whenever it moves, and
// shown once the view holds at most the server's limit; until then a hint asks to zoom in.
(function () {
  const el = document.getElementById("registry-map");
  if (!el || !window.L) return;
  const map = L.map(el, { preferCanvas: true });
  const colours = { normal: "#2e8b57", damaged: "#e6a700", missing: "#c0392b", occupied: "#8e44ad", removed: "#777" };
  const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  const buildings = L.geoJSON(null, {
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 5, color: "#2c3e50", weight: 1, fillOpacity: 0.6 }),
    onEachFeature: (f, layer) => layer.bindPopup(`<b>${esc(f.properties.name)}</b><br>${esc(f.properties.address)}<br>户 ${f.properties.dwellings} · 人 ${f.properties.residents}`),
  }).addTo(map);
  const hint = L.control({ position: "bottomleft" });
  hint.onAdd = () => {
    const div = L.DomUtil.create("div", "map-hint");
    div.style.cssText = "background:#fff;padding:.3rem .6rem;border-radius:.3rem;font-size:.85rem;display:none";
    return div;
  };
  hint.addTo(map);
  const say = (text) => {
    hint.getContainer().textContent = text;
    hint.getContainer().style.display = text ? "" : "none";
  };
  let asked = 0;
  function loadBuildings() {
    if (!map.hasLayer(buildings)) return say("");
    const n = ++asked;
    const v = map.getBounds();
    const bbox = [v.getWest(), v.getSouth(), v.getEast(), v.getNorth()].map((x) => x.toFixed(6)).join(",");
    fetch(`${el.dataset.buildings}?bbox=${bbox}`).then((r) => r.json()).then((data) => {
      if (n !== asked) return; // the view moved on meanwhile: a newer answer is coming
      buildings.clearLayers();
      if (data.more) return say(el.dataset.zoomHint.replace("{n}", data.more));
      say("");
      buildings.addData(data);
    });
  }
  map.on("moveend", loadBuildings);
  map.on("overlayadd overlayremove", loadBuildings);
  fetch(el.dataset.components).then((r) => r.json()).then((components) => {
    const c = L.geoJSON(components, {
      pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, color: colours[f.properties.state] || "#333", weight: 2, fillOpacity: 0.9 }),
      onEachFeature: (f, layer) => layer.bindPopup(`<b>${esc(f.properties.code)}</b><br>${esc(f.properties.major)} · ${esc(f.properties.category)}<br>${esc(f.properties.state_label)}`),
    }).addTo(map);
    L.control.layers(null, { "楼栋 Buildings": buildings, "部件 Components": c }).addTo(map);
    const b = (el.dataset.bounds || "").split(",").map(Number); // where the area's buildings are: south,west,north,east
    if (b.length === 4 && b.every(Number.isFinite)) map.fitBounds(L.latLngBounds([b[0], b[1]], [b[2], b[3]]).pad(0.05));
    else if (c.getLayers().length) map.fitBounds(c.getBounds().pad(0.05));
    else map.setView([37.524, 111.13], 14);
    loadBuildings();
  });
})();
