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
from dataclasses import dataclass

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
    inner_x = MARGIN + 15
    row_y = top + 20
    edge_boxes: list[tuple[Box, str, str]] = []

    # Row 1: bastion, load balancers, the Gateway behind its LB.
    column = 0
    bastion_box: Box | None = None
    api_lb_box: Box | None = None
    control_plane_box: Box | None = None

    def place() -> Box:
        nonlocal column, row_y
        if column == PER_ROW:
            column, row_y = 0, row_y + BOX_H + ROW_GAP
        placed = Box(inner_x + column * (BOX_W + GAP), row_y)
        column += 1
        return placed

    if summary.bastion:
        box = place()
        canvas.box(box, "bastion", "Bastion" + (" + NAT gateway" if summary.private_only else ""),
                   _pool_lines(summary.bastion)[:1] + ["the only SSH door" if summary.private_only
                                                       else "SSH jump host"],
                   element_id="bastion")
        edge_boxes.append((box, f"ssh {SSH_PORT}", "bastion"))
        bastion_box = box
    for lb in summary.load_balancers:
        box = place()
        canvas.box(box, "lb", f"LB {lb.name} ({lb.purpose})", _lb_lines(lb),
                   element_id=f"lb-{lb.name}")
        if lb.purpose == "Kubernetes API":
            api_lb_box = box
        if lb.public:
            edge_boxes.append((box, "port " + ", ".join(map(str, lb.ports)), "lb"))
        if lb.purpose == "Gateway" and summary.gateway:
            gateway_box = place()
            canvas.box(gateway_box, "gateway", f"Gateway {summary.gateway}",
                       ["Cilium Gateway API (Envoy)", "routes to Services in the cluster"],
                       element_id="gateway")
            canvas.arrow(box.right, gateway_box.left, "", colour="#2c8a4e")

    # Then the control plane and the worker pools, each row starting at the left.
    if column:
        column = PER_ROW  # start a new row
    for pool in summary.pools:
        box = place()
        kind = "server" if pool.role == "server" else "agent"
        title = "Control plane (k3s servers, etcd)" if pool.role == "server" else \
            f"Pool {pool.name} (k3s agents)"
        lines = _pool_lines(pool)
        if pool.role == "server" and summary.k3s:
            lines.insert(1, f"k3s {summary.k3s.version}")
        canvas.box(box, kind, title, lines, element_id=f"pool-{pool.name}")
        if pool.role == "server":
            control_plane_box = box

    # The network's caption sits at its bottom, clear of the arrows that enter from the top.
    network_title = (f"Private network {summary.network_cidr or '?'} — "
                     + ("nodes without public IPs" if summary.private_only
                        else "nodes also have public IPs"))
    caption = [network_title]
    if summary.cilium:
        caption += textwrap.wrap(f"Cilium {summary.cilium.version}: "
                                 + ", ".join(summary.cilium.features), 120)
    bottom = row_y + BOX_H + 16 + 16 * len(caption)
    network = Box(MARGIN, top, WIDTH - 2 * MARGIN, bottom - top + 8)
    # The network is drawn first so everything else sits on top of it.
    network_group = _Canvas()
    network_group.box(network, "network", "", [], dashed=True, element_id="network")
    for index, line in enumerate(caption):
        network_group.text(network.x + 10, row_y + BOX_H + 26 + 16 * index, line,
                           bold=index == 0, size=12 if index == 0 else 11,
                           colour="#4a78b5")
    api = summary.api_endpoint or "unknown until deployed"
    footer_y = network.y + network.h + 22
    canvas.text(MARGIN, footer_y, f"Kubernetes API endpoint: {api}", size=12)
    canvas.text(MARGIN, footer_y + 18, "Addresses, ids and keys in an offline plan are "
                "stand-ins; private addresses are the address plan's.", size=11,
                colour="#666666")

    if control_plane_box is not None:
        if bastion_box is not None:
            canvas.arrow(bastion_box.bottom, control_plane_box.top,
                         "ssh -J" + (" · NAT egress" if summary.private_only else ""),
                         colour="#c77800", dashed=True)
        if api_lb_box is not None:
            canvas.arrow(api_lb_box.bottom, (control_plane_box.right[0] - 20,
                                             control_plane_box.y), str(API_PORT), colour="#6a46b5")
    for box, label, _kind in edge_boxes:
        canvas.arrow((box.top[0], internet.y + internet.h), box.top, label)
    if any(pool.public for pool in summary.pools):
        # One arrow for every node with a public interface: through the firewall only.
        ports = f"ssh {SSH_PORT}" + (f" + {API_PORT}" if api_from else "")
        x = network.x + network.w - 30
        canvas.arrow((x, internet.y + internet.h), (x, network.y),
                     f"{ports} to every node's public IPv4 (firewall)", label_left=True)

    height = footer_y + 34
    svg = ET.Element("svg", {"xmlns": SVG_NS, "width": str(WIDTH), "height": f"{height:g}",
                             "viewBox": f"0 0 {WIDTH} {height:g}", "font-family": FONT})
    ET.SubElement(svg, "title").text = title
    defs = ET.SubElement(svg, "defs")
    for colour in sorted(canvas.colours):
        marker = ET.SubElement(defs, "marker", {
            "id": _marker_id(colour), "viewBox": "0 0 10 10", "refX": "9", "refY": "5",
            "markerWidth": "7", "markerHeight": "7", "orient": "auto"})
        ET.SubElement(marker, "path", {"d": "M0,0 L10,5 L0,10 z", "fill": colour})
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    svg.append(network_group.shapes)
    svg.append(canvas.shapes)
    svg.append(canvas.arrows)
    ET.indent(svg)
    return ET.tostring(svg, encoding="unicode") + "\n"
