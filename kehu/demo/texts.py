"""Sentences for demo interactions and refunds; {product}, {category}, {store} are filled in."""

INTERACTION_TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    # channel: ((direction, summary template), ...)
    "phone": (
        ("outbound", "电话回访：询问上次购买的{product}是否满意，客户表示不错，会继续回购。"),
        ("outbound", "电话通知本周{category}会员日满100减10，客户说周末会来{store}看看。"),
        ("outbound", "电话回访未接通，稍后通过企业微信留言。"),
        ("outbound", "生日前电话问候，告知生日月可领取蛋糕券，客户很开心。"),
        ("outbound", "电话确认{product}到货时间，客户希望送货上门。"),
        ("inbound", "客户来电咨询{product}是否有货，已帮忙预留。"),
        ("inbound", "客户来电反馈{product}口味偏甜，已记录并转给采购。"),
    ),
    "wecom": (
        ("outbound", "企业微信推送{category}新品清单，客户回复想要{product}。"),
        ("outbound", "企业微信发送满减活动海报，客户已领取优惠券。"),
        ("outbound", "企业微信提醒积分即将到期，建议兑换{product}。"),
        ("outbound", "邀请客户加入{store}会员社群，客户已进群。"),
        ("inbound", "客户企业微信咨询{product}的保质期，已回复。"),
        ("inbound", "客户在企业微信下单预订{product}，约好到店自提。"),
        ("inbound", "客户发来{product}的照片询问用法，已发送使用说明。"),
    ),
    "face_to_face": (
        ("inbound", "客户到{store}选购{category}，推荐了{product}，客户当场购买。"),
        ("inbound", "到店时为客户办理会员卡升级，介绍了积分规则。"),
        ("inbound", "客户到店试吃{product}，反馈很好。"),
        ("outbound", "在{store}门口活动中为客户讲解{category}新品。"),
    ),
    "sms": (
        ("outbound", "短信发送{category}满减活动通知。"),
        ("outbound", "短信提醒客户预订的{product}已到店。"),
    ),
}

# Share of interactions per channel: phone calls, WeCom messages, store visits, a few texts.
INTERACTION_CHANNEL_SHARES = {"phone": 0.34, "wecom": 0.42, "face_to_face": 0.19, "sms": 0.05}

SERVICE_TEMPLATES = (
    "客户来电咨询退款进度，已告知1-3个工作日到账。",
    "客户反馈{product}有破损，已安排退款并致歉。",
    "客户来电表示{product}临近保质期，已办理退货。",
)

# (reason, goods returned)
REFUND_REASONS: tuple[tuple[str, bool], ...] = (
    ("商品质量问题", True),
    ("商品破损", True),
    ("拍错了/买错了", True),
    ("不想要了", False),
    ("配送超时", False),
    ("临期商品", True),
)

OWNERSHIP_REASON = "按门店分配新会员"
