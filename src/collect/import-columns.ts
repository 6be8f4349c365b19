/** What a file holds: one customer, one order or one piece of feedback per row. */
export type ImportKind = 'customers' | 'orders' | 'feedback';
export const IMPORT_KINDS: readonly ImportKind[] = ['customers', 'orders', 'feedback'];

/** The standard fields a column can map to; anything else becomes a custom trait or property. */
export const IMPORT_FIELDS = [
  'id', 'customer_id', 'name', 'first_name', 'last_name', 'email', 'phone', 'birthday', 'gender', 'city', 'province', 'country',
  'address', 'postal_code', 'company', 'created_at', 'order_id', 'date', 'amount', 'currency', 'items', 'product_id',
  'product_name', 'category', 'quantity', 'price', 'store', 'channel', 'status', 'nps', 'csat', 'rating', 'comment', 'topic',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

// Header spellings seen in CRM, till and spreadsheet exports, English and Chinese.
// Compared after folding (lower case, NFKC, no spaces, underscores or hyphens).
const ALIASES: Record<ImportField, readonly string[]> = {
  id: ['id', 'customerid', 'clientid', 'memberid', 'memberno', 'membernumber', 'customerno', 'customernumber', '客户编号', '客户id', '会员号', '会员编号', '会员id', '会员卡号', '用户id', '编号'],
  customer_id: [],
  name: ['name', 'fullname', 'customername', 'contactname', '姓名', '名字', '客户姓名', '客户名称', '会员姓名', '联系人'],
  first_name: ['firstname', 'givenname', 'forename', '名'],
  last_name: ['lastname', 'surname', 'familyname', '姓'],
  email: ['email', 'emailaddress', 'mail', '邮箱', '电子邮件', '电子邮箱', '邮件', '邮箱地址'],
  phone: ['phone', 'mobile', 'mobilephone', 'cell', 'cellphone', 'telephone', 'tel', 'phonenumber', 'mobilenumber', '手机', '手机号', '手机号码', '电话', '联系电话', '电话号码', '移动电话'],
  birthday: ['birthday', 'birthdate', 'dateofbirth', 'dob', '生日', '出生日期', '出生年月'],
  gender: ['gender', 'sex', '性别'],
  city: ['city', 'town', '城市', '市', '所在城市'],
  province: ['province', 'state', 'region', '省份', '省', '地区', '所在省份'],
  country: ['country', 'countrycode', '国家', '国家地区'],
  address: ['address', 'street', 'streetaddress', 'address1', 'addressline1', '地址', '详细地址', '收货地址', '联系地址', '街道'],
  postal_code: ['zip', 'zipcode', 'postcode', 'postalcode', '邮编', '邮政编码'],
  company: ['company', 'organization', 'organisation', '公司', '单位', '公司名称'],
  created_at: ['createdat', 'created', 'signupdate', 'registeredat', 'joindate', '注册时间', '注册日期', '入会时间', '创建时间'],
  order_id: ['orderid', 'orderno', 'ordernumber', 'order', '订单号', '订单编号', '订单id', '单号'],
  date: ['date', 'orderdate', 'orderedat', 'purchasedate', 'purchasedat', 'time', 'datetime', 'timestamp', 'submittedat', '下单时间', '日期', '时间', '订单时间', '购买时间', '交易时间', '提交时间'],
  amount: ['amount', 'total', 'revenue', 'ordertotal', 'totalamount', 'grandtotal', 'value', '金额', '总金额', '订单金额', '实付金额', '实付', '消费金额', '交易金额'],
  currency: ['currency', 'currencycode', '币种', '货币'],
  items: ['items', 'lineitems', 'products', '商品', '商品明细', '商品列表'],
  product_id: ['sku', 'productid', 'productcode', 'itemid', '商品编号', '商品id', '货号'],
  product_name: ['product', 'productname', 'itemname', '商品名称', '品名'],
  category: ['category', 'productcategory', '品类', '类目', '分类', '商品类别'],
  quantity: ['quantity', 'qty', 'count', '数量', '件数'],
  price: ['price', 'unitprice', '单价', '价格'],
  store: ['store', 'shop', 'storeid', 'storename', 'branch', '门店', '店铺', '门店名称'],
  channel: ['channel', 'saleschannel', '渠道', '销售渠道', '来源'],
  status: ['status', 'orderstatus', '状态', '订单状态'],
  nps: ['nps', 'npsscore', 'recommend', 'likelihoodtorecommend', '推荐值', '推荐意愿', '推荐度', 'nps评分'],
  csat: ['csat', 'satisfaction', 'csatscore', '满意度', '满意度评分'],
  rating: ['rating', 'score', 'stars', '评分', '星级'],
  comment: ['comment', 'comments', 'feedback', 'text', 'message', 'remarks', 'review', '评论', '意见', '反馈', '内容', '留言', '备注', '评价'],
  topic: ['topic', 'subject', 'type', 'feedbacktype', '主题', '类型', '问题类型'],
};

/** The fields each kind of row uses; a column that maps to another is kept custom, never dropped. */
const KIND_FIELDS: Record<ImportKind, ReadonlySet<ImportField>> = {
  customers: new Set(['id', 'name', 'first_name', 'last_name', 'email', 'phone', 'birthday', 'gender', 'city', 'province', 'country', 'address', 'postal_code', 'company', 'created_at']),
  orders: new Set(['customer_id', 'email', 'phone', 'name', 'order_id', 'date', 'amount', 'currency', 'items', 'product_id', 'product_name', 'category', 'quantity', 'price', 'store', 'channel', 'status']),
  feedback: new Set(['customer_id', 'email', 'phone', 'name', 'date', 'nps', 'csat', 'rating', 'comment', 'topic', 'channel', 'store']),
};

// In an order or feedback file the customer's number is a reference, not the row's own id.
const CUSTOMER_REFERENCE = new Set(['customerid', 'clientid', 'memberid', 'memberno', 'customerno', 'customernumber', '客户编号', '客户id', '会员号', '会员编号', '会员id', '会员卡号', '用户id']);

export function foldHeader(header: string): string {
  return header.normalize('NFKC').trim().toLowerCase().replace(/[\s_\-.·:：()（）]/g, '');
}

const BY_ALIAS = new Map<string, ImportField>();
for (const [field, aliases] of Object.entries(ALIASES) as Array<[ImportField, readonly string[]]>) {
  for (const alias of aliases) BY_ALIAS.set(foldHeader(alias), field);
}
for (const field of IMPORT_FIELDS) if (!BY_ALIAS.has(foldHeader(field))) BY_ALIAS.set(foldHeader(field), field);

export interface ColumnMapping {
  /** position in the row */
  index: number;
  header: string;
  /** the standard field, or null: kept as a custom trait/property under its header */
  field: ImportField | null;
}

export interface MappingResult {
  columns: ColumnMapping[];
  warnings: string[];
  /** a problem that stops the import before any row is read */
  error: string | null;
}

/**
 * Map a file's header row to standard fields. `overrides` (from --map col=field)
 * win; `idColumn` names the column holding the record id (customers) or the
 * customer reference (orders, feedback).
 */
export function mapColumns(headers: readonly string[], kind: ImportKind, overrides: Readonly<Record<string, string>> = {}, idColumn?: string): MappingResult {
  const warnings: string[] = [];
  const folded = new Map(headers.map((h, i) => [foldHeader(h), i]));
  for (const column of Object.keys(overrides)) {
    if (!folded.has(foldHeader(column))) return { columns: [], warnings, error: `--map ${column}=…: the file has no column ${JSON.stringify(column)} (columns: ${headers.join(', ')})` };
  }
  for (const [column, field] of Object.entries(overrides)) {
    if (field !== '' && !KIND_FIELDS[kind].has(field as ImportField)) {
      return { columns: [], warnings, error: `--map ${column}=${field}: ${field} is not a field of ${kind}; use one of ${[...KIND_FIELDS[kind]].join(', ')}, or an empty value to keep the column custom` };
    }
  }
  if (idColumn !== undefined && !folded.has(foldHeader(idColumn))) {
    return { columns: [], warnings, error: `--id-column ${idColumn}: the file has no such column (columns: ${headers.join(', ')})` };
  }
  const overrideFor = new Map(Object.entries(overrides).map(([c, f]) => [foldHeader(c), f]));
  const taken = new Set<ImportField>();
  const columns = headers.map((header, index): ColumnMapping => {
    const key = foldHeader(header);
    let field: ImportField | null;
    if (overrideFor.has(key)) field = (overrideFor.get(key) || null) as ImportField | null;
    else if (idColumn !== undefined && key === foldHeader(idColumn)) field = kind === 'customers' ? 'id' : 'customer_id';
    else if (kind !== 'customers' && CUSTOMER_REFERENCE.has(key)) field = 'customer_id';
    else {
      field = BY_ALIAS.get(key) ?? null;
      // A bare id column in an orders file is the order's number.
      if (field === 'id' && kind === 'orders') field = 'order_id';
      if (field === 'id' && kind === 'feedback') field = null;
      if (field !== null && !KIND_FIELDS[kind].has(field)) field = null;
    }
    if (field !== null && taken.has(field)) {
      warnings.push(`column ${JSON.stringify(header)} would also be ${field}: kept as a custom field instead`);
      field = null;
    }
    if (field !== null) taken.add(field);
    return { index, header, field };
  });
  const unmapped = columns.filter((c) => c.field === null && c.header.trim() !== '');
  if (unmapped.length > 0) warnings.push(`kept as custom ${kind === 'customers' ? 'traits' : 'properties'} (no standard field): ${unmapped.map((c) => c.header).join(', ')}`);
  return { columns, warnings, error: null };
}
