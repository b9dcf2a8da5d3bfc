"""The demo business: stores, teams, staff, sales channels, categories, products and tags."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreSpec:
    code: str
    name: str
    province: str
    city: str
    districts: str  # space-separated
    team: str
    share: float  # share of the chain's customers who call this store home


STORES: tuple[StoreSpec, ...] = (
    StoreSpec("SH01", "上海徐汇店", "上海市", "上海", "徐汇区 闵行区 长宁区", "上海区", 0.22),
    StoreSpec("SH02", "上海浦东店", "上海市", "上海", "浦东新区 黄浦区 静安区", "上海区", 0.22),
    StoreSpec("HZ01", "杭州西湖店", "浙江省", "杭州", "西湖区 上城区 拱墅区", "江浙区", 0.16),
    StoreSpec("HZ02", "杭州滨江店", "浙江省", "杭州", "滨江区 萧山区", "江浙区", 0.12),
    StoreSpec("SZ01", "苏州园区店", "江苏省", "苏州", "工业园区 姑苏区 吴中区", "江浙区", 0.14),
    StoreSpec("NJ01", "南京新街口店", "江苏省", "南京", "秦淮区 鼓楼区 玄武区", "江浙区", 0.14),
)  # fmt: skip

TEAMS = ("上海区", "江浙区")


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    role: str
    team: str | None
    password: str


ROLE_PASSWORDS = {
    "admin": "kehu-admin",
    "manager": "kehu-manager",
    "sales": "kehu-sales",
    "service": "kehu-service",
    "marketing": "kehu-marketing",
    "analyst": "kehu-analyst",
}

STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("admin", "系统管理员", "admin", None, ROLE_PASSWORDS["admin"]),
    StaffSpec("manager1", "周店长", "manager", "上海区", ROLE_PASSWORDS["manager"]),
    StaffSpec("manager2", "吴店长", "manager", "江浙区", ROLE_PASSWORDS["manager"]),
    StaffSpec("sales1", "王晓丽", "sales", "上海区", ROLE_PASSWORDS["sales"]),
    StaffSpec("sales2", "李明", "sales", "上海区", ROLE_PASSWORDS["sales"]),
    StaffSpec("sales3", "陈静", "sales", "上海区", ROLE_PASSWORDS["sales"]),
    StaffSpec("sales4", "张伟", "sales", "江浙区", ROLE_PASSWORDS["sales"]),
    StaffSpec("sales5", "刘婷", "sales", "江浙区", ROLE_PASSWORDS["sales"]),
    StaffSpec("sales6", "赵磊", "sales", "江浙区", ROLE_PASSWORDS["sales"]),
    StaffSpec("service1", "客服小林", "service", None, ROLE_PASSWORDS["service"]),
    StaffSpec("marketing1", "市场部孙悦", "marketing", None, ROLE_PASSWORDS["marketing"]),
    StaffSpec("analyst1", "数据分析师郑毅", "analyst", None, ROLE_PASSWORDS["analyst"]),
)


@dataclass(frozen=True)
class ChannelSpec:
    code: str
    name: str
    kind: str
    prefix: str  # external order ids look like the channel's own numbering


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("pos", "门店收银", "store", "POS"),
    ChannelSpec("miniapp", "小程序商城", "online", "WX"),
    ChannelSpec("meituan", "美团外卖", "delivery", "MT"),
    ChannelSpec("eleme", "饿了么", "delivery", "ELM"),
    ChannelSpec("groupbuy", "社群团购", "group_buy", "TG"),
)

# How each kind of customer spreads orders over CHANNELS (pos, miniapp, meituan, eleme, groupbuy).
CHANNEL_MIX_BY_SOURCE = {
    "store": (0.74, 0.12, 0.06, 0.03, 0.05),
    "online": (0.22, 0.48, 0.14, 0.08, 0.08),
    "group_buy": (0.18, 0.18, 0.04, 0.02, 0.58),
    "community": (0.25, 0.20, 0.04, 0.02, 0.49),
    "referral": (0.55, 0.25, 0.08, 0.04, 0.08),
    "event": (0.60, 0.22, 0.06, 0.04, 0.08),
}
SOURCE_SHARES = {
    "store": 0.52,
    "online": 0.2,
    "group_buy": 0.1,
    "community": 0.08,
    "referral": 0.06,
    "event": 0.04,
}


@dataclass(frozen=True)
class CategorySpec:
    name: str
    popularity: float  # share of all order lines
    interest: str | None  # the interest tag heavy buyers of this category get
    products: tuple[tuple[str, str], ...]  # (name, price in yuan)


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("生鲜果蔬", 0.14, "生鲜", (
        ("云南高山娃娃菜 500g", "5.90"), ("山东红富士苹果 1.5kg", "19.90"),
        ("海南金钻凤梨 1个", "16.80"), ("有机西兰花 300g", "8.90"), ("佳沛阳光金果 6粒", "49.90"),
        ("丹东99草莓 500g", "59.00"), ("麒麟西瓜 1个", "32.80"), ("本地小番茄 500g", "12.90"),
        ("精品香蕉 1kg", "9.90"), ("赣南脐橙 2.5kg", "29.90"), ("新鲜蓝莓 125g", "15.90"),
        ("水果玉米 3根", "10.90"), ("菠菜 400g", "6.50"),
    )),
    CategorySpec("肉禽蛋品", 0.09, "生鲜", (
        ("黑猪五花肉 500g", "32.90"), ("澳洲谷饲牛排 200g", "45.00"), ("三黄鸡 1只", "39.90"),
        ("鲜鸡蛋 30枚", "24.90"), ("无抗鸡胸肉 1kg", "29.90"), ("内蒙古羊肉卷 400g", "42.00"),
        ("冰鲜三文鱼 200g", "58.00"), ("基围虾 500g", "49.90"), ("猪小排 500g", "38.80"),
        ("土鸡蛋 10枚", "19.90"), ("鲈鱼 1条", "36.00"),
    )),
    CategorySpec("乳品冷饮", 0.11, None, (
        ("光明鲜牛奶 950ml", "15.50"), ("蒙牛纯甄酸奶 200g×10", "49.90"),
        ("安佳淡奶油 1L", "56.00"), ("伊利金典纯牛奶 250ml×12", "59.90"),
        ("简爱原味酸奶 135g×6", "35.90"), ("哈根达斯香草冰淇淋 392g", "89.00"),
        ("钟薛高雪糕 6支装", "78.00"), ("奶酪棒 500g", "39.90"), ("低脂鲜牛奶 1L", "17.90"),
        ("燕麦奶 1L", "22.90"), ("乳酸菌饮品 100ml×5", "9.90"), ("希腊酸奶 400g", "26.80"),
    )),
    CategorySpec("面包烘焙", 0.12, "烘焙", (
        ("法式可颂", "9.50"), ("全麦吐司", "16.00"), ("肉松小贝 4个", "22.00"),
        ("原味欧包", "18.00"), ("牛角包 4个", "19.90"), ("红豆面包", "7.50"), ("碱水结", "8.00"),
        ("芝士软欧包", "15.00"), ("北海道吐司", "19.80"), ("蒜香法棍", "12.00"),
        ("奶酥面包", "8.50"), ("黑麦贝果 2个", "14.00"), ("菠萝包", "7.00"),
    )),
    CategorySpec("蛋糕甜点", 0.05, "烘焙", (
        ("6寸草莓奶油蛋糕", "168.00"), ("8寸巧克力生日蛋糕", "238.00"), ("提拉米苏切块", "28.00"),
        ("芒果千层", "32.00"), ("蛋挞 6个", "24.00"), ("马卡龙礼盒 12枚", "88.00"),
        ("半熟芝士 4个", "26.00"), ("抹茶慕斯", "29.00"), ("瑞士卷", "22.00"),
        ("月饼礼盒", "198.00"), ("青团 6个", "29.90"),
    )),
    CategorySpec("休闲零食", 0.12, "零食", (
        ("三只松鼠每日坚果 30包", "99.00"), ("良品铺子猪肉脯 200g", "29.90"),
        ("乐事薯片 135g", "9.90"), ("奥利奥饼干 388g", "16.90"), ("旺旺大礼包", "59.00"),
        ("德芙巧克力 252g", "49.90"), ("卫龙辣条 260g", "12.90"), ("百草味芒果干 120g", "14.90"),
        ("徐福记沙琪玛 470g", "19.90"), ("洽洽瓜子 308g", "13.90"), ("海苔脆 40g", "8.90"),
        ("牛肉干 200g", "45.00"), ("果冻 1kg", "18.90"),
    )),
    CategorySpec("酒水饮料", 0.10, "酒水", (
        ("农夫山泉 550ml×24", "36.00"), ("元气森林苏打气泡水 480ml×15", "75.00"),
        ("可口可乐 330ml×24", "52.00"), ("青岛啤酒纯生 500ml×12", "69.00"),
        ("怡宝纯净水 4.5L", "9.50"), ("东方树叶 500ml×15", "62.00"), ("椰树椰汁 1L", "13.50"),
        ("张裕干红葡萄酒 750ml", "128.00"), ("五粮液 普五 500ml", "1099.00"),
        ("瑞幸挂耳咖啡 10包", "39.90"), ("三得利乌龙茶 500ml×15", "65.00"),
        ("NFC橙汁 1L", "24.90"),
    )),
    CategorySpec("粮油调味", 0.07, None, (
        ("五常大米 5kg", "69.90"), ("金龙鱼花生油 5L", "109.90"), ("海天生抽 1.9L", "23.90"),
        ("李锦记蚝油 510g", "16.50"), ("恒顺香醋 500ml", "9.80"), ("中筋面粉 2.5kg", "19.90"),
        ("挂面 1kg", "10.90"), ("老干妈风味豆豉 280g", "11.50"), ("东北小米 1kg", "18.80"),
        ("橄榄油 1L", "89.00"), ("冰糖 500g", "8.90"),
    )),
    CategorySpec("母婴用品", 0.04, "母婴", (
        ("帮宝适一级帮纸尿裤 L码 60片", "159.00"), ("花王妙而舒纸尿裤 M码 64片", "139.00"),
        ("婴儿湿巾 80抽×6", "49.90"), ("贝亲奶瓶 240ml", "98.00"), ("儿童牙刷 3支", "29.90"),
        ("婴儿洗发沐浴露 400ml", "59.00"), ("宝宝防晒霜 50ml", "79.00"),
        ("安抚奶嘴 2个", "45.00"), ("儿童保温杯", "129.00"), ("拉拉裤 XL码 42片", "129.00"),
        ("婴儿棉柔巾 100抽×3", "39.90"),
    )),
    CategorySpec("奶粉辅食", 0.03, "母婴", (
        ("飞鹤星飞帆 3段 700g", "258.00"), ("爱他美卓萃 2段 900g", "398.00"),
        ("a2至初 3段 900g", "368.00"), ("婴儿米粉 225g", "45.00"), ("宝宝面条 300g", "29.90"),
        ("果泥 4袋", "36.00"), ("儿童鳕鱼肠 10根", "42.00"), ("磨牙饼干 64g", "24.00"),
        ("有机核桃油 250ml", "88.00"), ("儿童成长奶粉 800g", "218.00"),
    )),
    CategorySpec("美妆护肤", 0.05, "美妆", (
        ("兰蔻小黑瓶精华 50ml", "1080.00"), ("雅诗兰黛小棕瓶 50ml", "950.00"),
        ("珀莱雅双抗精华 30ml", "299.00"), ("薇诺娜舒敏保湿霜 50g", "268.00"),
        ("完美日记口红", "69.90"), ("花西子散粉", "149.00"), ("自然堂面膜 10片", "99.00"),
        ("安热沙防晒霜 60ml", "198.00"), ("理肤泉B5修复霜 40ml", "178.00"),
        ("卸妆水 400ml", "89.00"), ("玉兰油大红瓶面霜 50g", "299.00"),
    )),
    CategorySpec("个人洗护", 0.08, "美妆", (
        ("舒肤佳沐浴露 1L", "39.90"), ("海飞丝洗发水 750ml", "59.90"),
        ("高露洁牙膏 180g×3", "32.90"), ("维达抽纸 3层100抽×18包", "59.90"),
        ("蓝月亮洗衣液 3kg", "49.90"), ("护舒宝卫生巾 日用 20片", "29.90"),
        ("云南白药牙膏 180g", "35.00"), ("洗手液 500ml", "19.90"), ("滴露消毒液 1.2L", "45.00"),
        ("电动牙刷刷头 4支", "99.00"), ("厨房湿巾 80片", "15.90"), ("洗洁精 1.5kg", "16.90"),
    )),
)  # fmt: skip

# Tag groups and their tags; interest tags come from CategorySpec.interest.
TAG_GROUPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "interest": ("兴趣", "#16a34a", ("母婴", "烘焙", "美妆", "生鲜", "零食", "酒水")),
    "value": ("价值", "#dc2626", ("高价值", "潜力客户")),
    "channel": ("渠道", "#2563eb", ("社群", "线上")),
}
