"""Draw the planned cluster as an SVG picture: network, bastion, load balancers, pools, Gateway.

Input is the plan's :class:`~tools.lib.plan_report.ClusterSummary` (what the program registers, not
the stack file). The picture is built as an XML element tree (``xml.etree``), so it is valid
XML by construction and needs nothing beyond the standard library. Layout, top to bottom:
the internet with the firewall's allowed sources; the private network holding the bastion and
load balancers (with the Gateway behind its LB), then the control plane, then worker pools
(three to a row). Arrows are what the internet may reach.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from tools.lib.plan_report import ClusterSummary, LoadBalancerSummary, PoolSummary
from upstream.k3s import API_PORT
from upstream.openssh import SSH_PORT

SVG_NS = "http://www.w3.org/2000/svg"
BOX_W, BOX_H, GAP, ROW_GAP = 262, 112, 24, 40
MARGIN = 20
PER_ROW = 3
WIDTH = MARGIN * 2 + 30 + PER_ROW * BOX_W + (PER_ROW - 1) * GAP
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
CHARS_PER_LINE = 36
COLOURS = {
    "internet": ("#f4f4f4", "#888888"),
    "network": ("#f3f8ff", "#4a78b5"),
    "bastion": ("#fff4e0", "#c77800"),
    "lb": ("#efe7ff", "#6a46b5"),
    "gateway": ("#e8f7ee", "#2c8a4e"),
    "server": ("#ffffff", "#1d4f91"),
    "agent": ("#ffffff", "#3a7d3a"),
}


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float = BOX_W
    h: float = BOX_H

    @property
    def top(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y

    @property
    def bottom(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h

    @property
    def right(self) -> tuple[float, float]:
        return self.x + self.w, self.y + self.h / 2

    @property
    def left(self) -> tuple[float, float]:
        return self.x, self.y + self.h / 2


def _clip(text: str, limit: int = CHARS_PER_LINE) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class _Canvas:
    def __init__(self) -> None:
        self.shapes = ET.Element("g")
        self.arrows = ET.Element("g")
        self.colours: set[str] = set()

    def box(self, box: Box, kind: str, title: str, lines: list[str], dashed: bool = False,
            element_id: str | None = None) -> None:
        fill, stroke = COLOURS[kind]
        group = ET.SubElement(self.shapes, "g", {"class": kind})
        if element_id:
            group.set("id", element_id)
        rect = ET.SubElement(group, "rect", {
            "x": f"{box.x:g}", "y": f"{box.y:g}", "width": f"{box.w:g}", "height": f"{box.h:g}",
            "rx": "8", "fill": fill, "stroke": stroke, "stroke-width": "1.5"})
        if dashed:
            rect.set("stroke-dasharray", "6 4")
        self.text(box.x + 10, box.y + 20, _clip(title, int(box.w / 7.5)), bold=True,
                  colour=stroke, parent=group)
        wrapped = [part for line in lines
                   for part in textwrap.wrap(line, int(box.w / 6.8))]
        room = max(int((box.h - 30) / 15), 0)
        if len(wrapped) > room:
            wrapped = [*wrapped[:room - 1], _clip(" ".join(wrapped[room - 1:]), int(box.w / 6.8))]
        for index, line in enumerate(wrapped):
            self.text(box.x + 10, box.y + 38 + index * 15, line, parent=group)

    def text(self, x: float, y: float, content: str, *, bold: bool = False,
             colour: str = "#222222", size: int = 12, anchor: str = "start",
             parent: ET.Element | None = None) -> None:
        element = ET.SubElement(self.shapes if parent is None else parent, "text", {
            "x": f"{x:g}", "y": f"{y:g}", "font-size": str(size), "fill": colour,
            "text-anchor": anchor})
        if bold:
            element.set("font-weight", "bold")
        element.text = content

    def arrow(self, start: tuple[float, float], end: tuple[float, float], label: str,
              colour: str = "#b00020", dashed: bool = False, label_left: bool = False) -> None:
        self.colours.add(colour)
        line = ET.SubElement(self.arrows, "line", {
            "x1": f"{start[0]:g}", "y1": f"{start[1]:g}", "x2": f"{end[0]:g}",
            "y2": f"{end[1]:g}", "stroke": colour, "stroke-width": "1.5",
            "marker-end": f"url(#{_marker_id(colour)})"})
        if dashed:
            line.set("stroke-dasharray", "5 3")
        if label:
            mid_x, mid_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            element = ET.SubElement(self.arrows, "text", {
                "x": f"{mid_x - 6 if label_left else mid_x + 6:g}", "y": f"{mid_y:g}",
                "font-size": "11", "fill": colour, "text-anchor": "end" if label_left else "start"})
            element.text = label


def _marker_id(colour: str) -> str:
    return "arrow-" + colour.lstrip("#")


def _pool_lines(pool: PoolSummary) -> list[str]:
    lines = [f"{pool.count} × {pool.server_type} · {', '.join(pool.locations)}",
             "public IPv4 (firewalled)" if pool.public else "private network only"]
    if pool.autoscaled:
        lines.append(f"autoscaler adds {pool.autoscaled[0]}–{pool.autoscaled[1]} nodes")
    if pool.node_labels:
        lines.append("labels: " + ", ".join(pool.node_labels))
    if pool.node_taints:
        lines.append("taints: " + ", ".join(pool.node_taints))
    return lines


def _lb_lines(lb: LoadBalancerSummary) -> list[str]:
    lines = [f"{lb.lb_type} · {lb.location} · port {', '.join(map(str, lb.ports))}",
             "public + private" if lb.public else "private only, no public interface"]
    if lb.private_address:
        lines.append(f"private address {lb.private_address}")
    if lb.created_by != "pulumi":
        lines.append(f"created by the {lb.created_by}")
    return lines


def _sources(summary: ClusterSummary, port: str) -> str:
    sources = sorted({s for row in summary.firewall if row.port == port for s in row.sources})
    return ", ".join(sources)


@dataclass
class _Grid:
    """Boxes placed left to right, ``PER_ROW`` to a row, inside the network."""

    x: float
    row_y: float
    column: int = 0

    def place(self) -> Box:
        if self.column == PER_ROW:
            self.column, self.row_y = 0, self.row_y + BOX_H + ROW_GAP
        placed = Box(self.x + self.column * (BOX_W + GAP), self.row_y)
        self.column += 1
        return placed

    def new_row(self) -> None:
        if self.column:
            self.column = PER_ROW


@dataclass
class _Placed:
    """The boxes arrows start or end at, and the boxes the internet reaches (box, label)."""

    bastion: Box | None = None
    api_load_balancer: Box | None = None
    control_plane: Box | None = None
    reachable: list[tuple[Box, str]] = field(default_factory=list)


def _draw_edge(canvas: _Canvas, grid: _Grid, summary: ClusterSummary, placed: _Placed) -> None:
    """Row 1: the bastion, the load balancers, the Gateway behind its LB."""
    if summary.bastion:
        box = grid.place()
        canvas.box(box, "bastion", "Bastion" + (" + NAT gateway" if summary.private_only else ""),
                   _pool_lines(summary.bastion)[:1] + ["the only SSH door" if summary.private_only
                                                       else "SSH jump host"],
                   element_id="bastion")
        placed.reachable.append((box, f"ssh {SSH_PORT}"))
        placed.bastion = box
    for lb in summary.load_balancers:
        box = grid.place()
        canvas.box(box, "lb", f"LB {lb.name} ({lb.purpose})", _lb_lines(lb),
                   element_id=f"lb-{lb.name}")
        if lb.purpose == "Kubernetes API":
            placed.api_load_balancer = box
        if lb.public:
            placed.reachable.append((box, "port " + ", ".join(map(str, lb.ports))))
        if lb.purpose == "Gateway" and summary.gateway:
            gateway_box = grid.place()
            canvas.box(gateway_box, "gateway", f"Gateway {summary.gateway}",
                       ["Cilium Gateway API (Envoy)", "routes to Services in the cluster"],
                       element_id="gateway")
            canvas.arrow(box.right, gateway_box.left, "", colour="#2c8a4e")


def _draw_pools(canvas: _Canvas, grid: _Grid, summary: ClusterSummary, placed: _Placed) -> None:
    """The control plane and the worker pools, starting a new row."""
    grid.new_row()
    for pool in summary.pools:
        box = grid.place()
        server = pool.role == "server"
        lines = _pool_lines(pool)
        if server and summary.k3s:
            lines.insert(1, f"k3s {summary.k3s.version}")
        canvas.box(box, "server" if server else "agent",
                   "Control plane (k3s servers, etcd)" if server
                   else f"Pool {pool.name} (k3s agents)", lines, element_id=f"pool-{pool.name}")
        if server:
            placed.control_plane = box


def _network(summary: ClusterSummary, top: float, last_row_y: float) -> tuple[Box, _Canvas]:
    """The dashed network around the rows; its caption sits at its bottom, clear of the arrows
    that enter from the top. Drawn on its own canvas, first, so everything sits on top of it."""
    caption = [f"Private network {summary.network_cidr or '?'} — "
               + ("nodes without public IPs" if summary.private_only
                  else "nodes also have public IPs")]
    if summary.cilium:
        caption += textwrap.wrap(f"Cilium {summary.cilium.version}: "
                                 + ", ".join(summary.cilium.features), 120)
    bottom = last_row_y + BOX_H + 16 + 16 * len(caption)
    network = Box(MARGIN, top, WIDTH - 2 * MARGIN, bottom - top + 8)
    group = _Canvas()
    group.box(network, "network", "", [], dashed=True, element_id="network")
    for index, line in enumerate(caption):
        group.text(network.x + 10, last_row_y + BOX_H + 26 + 16 * index, line,
                   bold=index == 0, size=12 if index == 0 else 11, colour="#4a78b5")
    return network, group


def _draw_arrows(canvas: _Canvas, summary: ClusterSummary, placed: _Placed, internet: Box,
                 network: Box, api_from: str) -> None:
    if placed.control_plane is not None:
        if placed.bastion is not None:
            canvas.arrow(placed.bastion.bottom, placed.control_plane.top,
                         "ssh -J" + (" · NAT egress" if summary.private_only else ""),
                         colour="#c77800", dashed=True)
        if placed.api_load_balancer is not None:
            canvas.arrow(placed.api_load_balancer.bottom,
                         (placed.control_plane.right[0] - 20, placed.control_plane.y),
                         str(API_PORT), colour="#6a46b5")
    for box, label in placed.reachable:
        canvas.arrow((box.top[0], internet.y + internet.h), box.top, label)
    if any(pool.public for pool in summary.pools):
        # One arrow for every node with a public interface: through the firewall only.
        ports = f"ssh {SSH_PORT}" + (f" + {API_PORT}" if api_from else "")
        x = network.x + network.w - 30
        canvas.arrow((x, internet.y + internet.h), (x, network.y),
                     f"{ports} to every node's public IPv4 (firewall)", label_left=True)


def _svg_document(title: str, height: float, layers: list[ET.Element],
                  colours: set[str]) -> str:
    svg = ET.Element("svg", {"xmlns": SVG_NS, "width": str(WIDTH), "height": f"{height:g}",
                             "viewBox": f"0 0 {WIDTH} {height:g}", "font-family": FONT})
    ET.SubElement(svg, "title").text = title
    defs = ET.SubElement(svg, "defs")
    for colour in sorted(colours):
        marker = ET.SubElement(defs, "marker", {
            "id": _marker_id(colour), "viewBox": "0 0 10 10", "refX": "9", "refY": "5",
            "markerWidth": "7", "markerHeight": "7", "orient": "auto"})
        ET.SubElement(marker, "path", {"d": "M0,0 L10,5 L0,10 z", "fill": colour})
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    svg.extend(layers)
    ET.indent(svg)
    return ET.tostring(svg, encoding="unicode") + "\n"


def render_svg(summary: ClusterSummary) -> str:
    canvas = _Canvas()
    title = (f"k3s-hcloud cluster '{summary.cluster}' (stack {summary.stack}) — planned "
             "offline")
    canvas.text(MARGIN, 26, title, bold=True, size=15)

    internet = Box(MARGIN, 44, WIDTH - 2 * MARGIN, 46)
    ssh_from, api_from = _sources(summary, str(SSH_PORT)), _sources(summary, str(API_PORT))
    canvas.box(internet, "internet", "Internet", [
        f"SSH allowed from: {ssh_from or 'nobody'} · API ({API_PORT}) allowed from: "
        f"{api_from or 'nobody'}"])

    top = internet.y + internet.h + 50
    grid, placed = _Grid(x=MARGIN + 15, row_y=top + 20), _Placed()
    _draw_edge(canvas, grid, summary, placed)
    _draw_pools(canvas, grid, summary, placed)
    network, network_layer = _network(summary, top, grid.row_y)

    api = summary.api_endpoint or "unknown until deployed"
    footer_y = network.y + network.h + 22
    canvas.text(MARGIN, footer_y, f"Kubernetes API endpoint: {api}", size=12)
    canvas.text(MARGIN, footer_y + 18, "Addresses, ids and keys in an offline plan are "
                "stand-ins; private addresses are the address plan's.", size=11,
                colour="#666666")
    _draw_arrows(canvas, summary, placed, internet, network, api_from)
    return _svg_document(title, footer_y + 34,
                         [network_layer.shapes, canvas.shapes, canvas.arrows], canvas.colours)
