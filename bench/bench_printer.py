"""Bytes per ticket and time on the wire at 9600 and 115200 baud (8N1: 10 bits a byte).

Native QR (`GS ( k`) against the same QR sent as a raster image (`GS v 0`), which is what a
generic driver would send; bilingual tickets (Chinese + English as text, Chinese + Tibetan with
its lines as raster images) against their budget, 2.5 KB = 2.6 s at 9600 baud.
Usage: .venv/bin/python bench/bench_printer.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import qrcode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from drivers import escpos  # noqa: E402

TICKET = {
    "id": "kJ3x9Qw2",
    "number": "A012",
    "service": "A",
    "service_name": "户籍业务",
    "issued_at": "2026-11-23T10:05:00+08:00",
    "ahead": 12,
    "est_wait_min": 35,
    "status_url": "http://hall.example.gov.cn/t/kJ3x9Qw2abcd",
    "priority": "elder",
    "appointment": None,
    "citizen": "张*三",
    "wait_kind": "minutes",
    "wait_text": "约 35 分钟",
}
BUDGET = 2500  # bytes: 2.6 s at 9600 baud


def raster_qr_bytes(data: str, module: int) -> int:
    q = qrcode.QRCode(border=0, box_size=1)
    q.add_data(data)
    q.make(fit=True)
    dots = q.modules_count * module
    return 8 + ((dots + 7) // 8) * dots


def main() -> None:
    job = escpos.ticket(TICKET, "示范县政务服务中心")
    qr_native = len(escpos.qr(TICKET["status_url"]))
    print(f"ticket job: {len(job)} bytes (native QR part {qr_native} bytes)")
    for baud in (9600, 115200):
        print(f"  {baud:>6} baud: {len(job) * 10 / baud * 1000:7.1f} ms on the wire")
    for module in (3, 6, 8):
        raster = len(job) - qr_native + raster_qr_bytes(TICKET["status_url"], module)
        print(
            f"same ticket with a raster QR (module {module}): {raster} bytes = "
            f"{raster * 10 / 9600:.2f} s at 9600, {raster * 10 / 115200 * 1000:.0f} ms at 115200"
        )
    guide = escpos.guide_card(
        {
            "name": "不动产登记",
            "guide": {
                "conditions": "房屋买卖、继承、赠与的转移登记",
                "time_limit_days": 3,
                "fee": "80元",
                "place": "三楼C区",
                "phone": "0930-12345",
                "url": "http://hall.example.gov.cn/guide/F",
                "materials": [{"name": f"材料{i}", "originals": 1, "copies": 1} for i in range(6)],
            },
        }
    )
    print(f"guide card: {len(guide)} bytes = {len(guide) * 10 / 9600:.2f} s at 9600")
    seconds = {
        "zh+en": escpos.Second(
            "en", "Demo County Government Service Centre", "Household registration"
        ),
        # a long Tibetan hall name (not printed on tickets) and a long service name
        "zh+bo": escpos.Second("bo", "མདོ་སྨད་རྫོང་གི་གཞུང་དོན་ཞབས་ཞུ་ལྟེ་གནས།", "ཐེམ་ཐོའི་ལས་དོན་དང་ལག་ཁྱེར།"),
    }
    worst = 0
    for name, second in seconds.items():
        for ahead, minutes in ((4, 18), (128, 245)):
            job = escpos.ticket(
                dict(TICKET, ahead=ahead, est_wait_min=minutes, wait_text=f"约 {minutes} 分钟"),
                "示范县政务服务中心",
                second=second,
            )
            worst = max(worst, len(job)) if name == "zh+bo" else worst
            print(
                f"ticket {name}, {ahead} ahead, {minutes} min: {len(job)} bytes = "
                f"{len(job) * 10 / 9600:.2f} s at 9600, {len(job) * 10 / 115200 * 1000:.0f} ms at 115200"
            )
        card = escpos.guide_card(
            {
                "code": "F",
                "name": "不动产登记",
                "name_bo": "ས་ཁང་ཐོ་འགོད།",
                "name_en": "Property registration",
                "guide": {
                    "time_limit_days": 3,
                    "url": "http://hall.example.gov.cn/guide/F",
                    "materials": [
                        {"name": f"材料{i}", "name_bo": f"ཡིག་ཆ་ {i}", "name_en": f"Paper {i}"}
                        for i in range(6)
                    ],
                },
            },
            second,
        )
        print(
            f"guide card {name}, 6 materials: {len(card)} bytes = {len(card) * 10 / 9600:.2f} s at 9600"
        )
    print(
        f"bilingual Tibetan ticket, worst: {worst} bytes (budget {BUDGET}): "
        + ("met" if worst <= BUDGET else "NOT MET")
    )


if __name__ == "__main__":
    main()
