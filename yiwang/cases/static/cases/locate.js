// Location picker for case intake: a Leaflet map with a draggable marker, a GPS button, nearby
// buildings to pick an address from, and duplicate suggestions. Stores WGS-84 in hidden lon/lat inputs.
(function () {
  const el = document.getElementById("locate-map");
  if (!el || !window.L) return;
  const form = el.closest("form");
  const lonInput = form.querySelector("[name=lon]");
  const latInput = form.querySelector("[name=lat]");
  const shown = document.getElementById("locate-coords");
  const lon0 = parseFloat(lonInput.value || el.dataset.lon || "111.1345");
  const lat0 = parseFloat(latInput.value || el.dataset.lat || "37.5240");
  const map = L.map(el).setView([lat0, lon0], 16);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, {maxZoom: 19, attribution: el.dataset.tileAttribution || ""}).addTo(map);
  }
  if (el.dataset.gridsUrl) {
    fetch(el.dataset.gridsUrl).then(r => r.ok ? r.json() : null).then(data => {
      if (!data) return;
      L.geoJSON(data, {style: f => ({weight: f.properties && f.properties.level === 4 ? 1 : 2, fillOpacity: 0.04}),
        interactive: false}).addTo(map);
    }).catch(() => {});
  }
  const marker = L.marker([lat0, lon0], {draggable: true}).addTo(map);
  function set(lat, lon, pan) {
    latInput.value = lat.toFixed(7); lonInput.value = lon.toFixed(7);
    marker.setLatLng([lat, lon]);
    if (pan) map.setView([lat, lon], 17);
    if (shown) shown.textContent = lon.toFixed(5) + ", " + lat.toFixed(5);
    refresh();
  }
  marker.on("dragend", () => { const p = marker.getLatLng(); set(p.lat, p.lng, false); });
  map.on("click", e => set(e.latlng.lat, e.latlng.lng, false));
  const gps = document.getElementById("locate-gps");
  if (gps) gps.addEventListener("click", () => {
    if (!navigator.geolocation) return;
    gps.setAttribute("aria-busy", "true");
    navigator.geolocation.getCurrentPosition(p => { gps.removeAttribute("aria-busy"); set(p.coords.latitude, p.coords.longitude, true); },
      () => gps.removeAttribute("aria-busy"), {enableHighAccuracy: true, timeout: 10000});
  });
  const buildingList = document.getElementById("locate-buildings");
  const dupes = document.getElementById("duplicates");
  let timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = "lon=" + lonInput.value + "&lat=" + latInput.value;
      if (buildingList && el.dataset.buildingsUrl) {
        fetch(el.dataset.buildingsUrl + "?" + q).then(r => r.json()).then(data => {
          buildingList.innerHTML = "";
          data.buildings.forEach(b => {
            const btn = document.createElement("button");
            btn.type = "button"; btn.className = "outline secondary small"; btn.textContent = b.name;
            btn.addEventListener("click", () => {
              form.querySelector("[name=address]").value = b.address;
              const bi = form.querySelector("[name=building]"); if (bi) bi.value = b.id;
              set(b.lat, b.lon, false);
            });
            buildingList.appendChild(btn);
          });
        }).catch(() => {});
      }
      if (dupes && window.htmx) {
        const cat = form.querySelector("[name=category]").value;
        const text = form.querySelector("[name=description]").value;
        htmx.ajax("GET", dupes.dataset.url + "?" + q + "&category=" + encodeURIComponent(cat) +
          "&description=" + encodeURIComponent(text), {target: dupes, swap: "innerHTML"});
      }
    }, 400);
  }
  form.querySelector("[name=category]").addEventListener("change", refresh);
  set(lat0, lon0, false);
})();
