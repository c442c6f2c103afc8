/* The dashboard map: district outlines shaded by coverage and the operation's sites, drawn by
   Leaflet from the GeoJSON the server gives (data-geojson on the map's element). No tile layer:
   nothing is asked of the internet, so the map works at a hub with no connection. */
(function () {
  "use strict";

  function escapeText(text) {
    // Safe in text and in a quoted attribute alike: innerHTML leaves quotes as they are.
    var span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML.replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function number(value) {
    return value == null ? "" : Number(value).toLocaleString("en-GB");
  }

  function areaPopup(p) {
    var lines = ["<strong>" + escapeText(p.name) + "</strong> <span class=\"code-quiet\">" + escapeText(p.pcode) + "</span>"];
    if (p["class"] === "none") {
      lines.push("no partner; " + (p.in_need ? number(p.in_need) + " households in need" + (p.illustrative ? " (illustrative)" : "") : "no baseline of need"));
    } else if (p.in_need != null) {
      lines.push(number(p.reached) + " of " + number(p.in_need) + " households reached" + (p.coverage ? " (" + escapeText(p.coverage) + ")" : ""));
      lines.push("gap: " + number(p.gap) + " households" + (p.illustrative ? " (need illustrative)" : ""));
    } else {
      lines.push(number(p.reached) + " households reached; no baseline of need");
    }
    lines.push("<a href=\"" + escapeText(p.href) + "\">Gaps by tehsil</a>");
    return lines.join("<br>");
  }

  function sitePopup(p) {
    return "<strong>" + escapeText(p.name) + "</strong><br>" + escapeText(p.kind_label) +
      " <span class=\"code-quiet\">" + escapeText(p.code) + "</span><br><a href=\"" + escapeText(p.href) + "\">Site page</a>";
  }

  var RADIUS = { hub: 7, warehouse: 7, office: 6, distribution_point: 5, camp: 3.5 };
  // Drawn in this order, the last on top: a camp often stands where a distribution point or a hub
  // does, so camps come last, and smaller, for both dots to show.
  var DRAW_ORDER = { warehouse: 0, hub: 1, office: 2, distribution_point: 3, camp: 4 };

  function drawOrder(feature) {
    var rank = DRAW_ORDER[feature.properties.kind];
    return rank === undefined ? -1 : rank;
  }

  function draw(element, data) {
    // The boundaries' attribution is the caption under the map (printed with it), not a control.
    var map = L.map(element, { zoomSnap: 0.25, attributionControl: false });
    var areas = data.features.filter(function (f) { return f.properties.layer === "area"; });
    var sites = data.features.filter(function (f) { return f.properties.layer === "site"; });
    sites.sort(function (a, b) { return drawOrder(a) - drawOrder(b); });  // stable: by name within a kind
    var outlines = L.geoJSON(areas, {
      style: function (feature) {
        return { color: "#ffffff", weight: 1, fillColor: feature.properties.colour, fillOpacity: 0.85, className: "district district-" + feature.properties["class"] };
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(areaPopup(feature.properties));
        layer.bindTooltip(escapeText(feature.properties.name), { sticky: true });
      }
    }).addTo(map);
    var markers = L.geoJSON(sites, {
      pointToLayer: function (feature, latlng) {
        var kind = feature.properties.kind;
        return L.circleMarker(latlng, { radius: RADIUS[kind] || 5, weight: 1.5, color: "#1b2733", fillOpacity: 0.95, className: "marker marker-" + kind });
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(sitePopup(feature.properties));
        layer.bindTooltip(escapeText(feature.properties.name));
      }
    }).addTo(map);
    var bounds = outlines.getBounds();
    if (!bounds.isValid()) { bounds = markers.getBounds(); }
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); } else { map.setView([30, 70], 5); }
    var layers = L.control.layers(null, { "Districts": outlines, "Hubs, points, camps and offices": markers }, { collapsed: true }).addTo(map);
    // The toggle is a link with a title only: named for a screen reader, as every other control is.
    var toggle = layers.getContainer().querySelector(".leaflet-control-layers-toggle");
    if (toggle) { toggle.setAttribute("aria-label", "Layers shown on the map: districts, and hubs, points, camps and offices"); }
    var caption = document.getElementById("map-attribution");
    if (caption) { caption.textContent = (data.attributions || []).join(" "); }
    element.setAttribute("data-drawn", String(areas.length));
    if (!areas.length) {
      var note = document.createElement("p");
      note.className = "none";
      note.textContent = "No district outline is loaded: load the gazetteer's boundaries (reliefops cluster boundaries FILE) to draw them.";
      element.parentNode.insertBefore(note, element.nextSibling);
    }
  }

  function start() {
    var element = document.getElementById("operations-map");
    if (!element || typeof L === "undefined") { return; }
    fetch(element.getAttribute("data-geojson"), { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("the map data answered " + response.status); }
        return response.json();
      })
      .then(function (data) { draw(element, data); })
      .catch(function (error) {
        element.textContent = "The map could not be drawn: " + error.message;
        element.classList.add("map-failed");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
