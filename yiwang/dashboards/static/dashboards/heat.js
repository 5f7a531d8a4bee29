/* A tiny canvas heat layer for Leaflet (no plugin): each point adds a radial gradient; the summed
   alpha is then coloured blue -> yellow -> red. Redrawn on move/zoom. */
(function () {
  if (!window.L) return;
  L.HeatCanvas = L.Layer.extend({
    initialize: function (points, options) { this._points = points || []; L.setOptions(this, options); },
    options: { radius: 22, maxOpacity: 0.75 },
    setPoints: function (points) { this._points = points || []; this._redraw(); return this; },
    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create('canvas', 'heat-canvas leaflet-zoom-hide');
      this._canvas.style.position = 'absolute';
      this._canvas.style.pointerEvents = 'none';
      map.getPanes().overlayPane.appendChild(this._canvas);
      map.on('moveend zoomend resize', this._redraw, this);
      this._redraw();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off('moveend zoomend resize', this._redraw, this);
    },
    _redraw: function () {
      if (!this._map) return;
      var size = this._map.getSize(), canvas = this._canvas;
      var topLeft = this._map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = size.x; canvas.height = size.y;
      var ctx = canvas.getContext('2d'), r = this.options.radius;
      ctx.clearRect(0, 0, size.x, size.y);
      for (var i = 0; i < this._points.length; i++) {
        var p = this._map.latLngToContainerPoint(this._points[i]);
        if (p.x < -r || p.y < -r || p.x > size.x + r || p.y > size.y + r) continue;
        var g = ctx.createRadialGradient(p.x, p.y, 0, p.x, p.y, r);
        g.addColorStop(0, 'rgba(0,0,0,0.35)'); g.addColorStop(1, 'rgba(0,0,0,0)');
        ctx.fillStyle = g; ctx.fillRect(p.x - r, p.y - r, 2 * r, 2 * r);
      }
      if (!size.x || !size.y) return;
      var img = ctx.getImageData(0, 0, size.x, size.y), d = img.data, max = this.options.maxOpacity;
      for (var j = 0; j < d.length; j += 4) {
        var a = d[j + 3] / 255;
        if (!a) continue;
        var t = Math.min(1, a * 1.6);
        d[j] = Math.round(255 * Math.min(1, t * 2));
        d[j + 1] = Math.round(255 * (t < 0.5 ? t * 2 : 2 - t * 2));
        d[j + 2] = Math.round(255 * Math.max(0, 1 - t * 2));
        d[j + 3] = Math.round(255 * Math.min(max, a * 1.4));
      }
      ctx.putImageData(img, 0, 0);
    }
  });
})();
