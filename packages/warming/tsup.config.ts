import { strataTsup } from '@stratacache/tsup-config';

export default strataTsup();
