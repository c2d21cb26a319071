import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import './styles/main.css'
import App from './App.vue'
import { i18n } from './i18n.js'
import { router } from './router/index.js'

createApp(App).use(i18n).use(router).use(ElementPlus).mount('#app')
